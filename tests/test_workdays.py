"""Chinese working days and calendar months, checked against the official
State Council holiday schedules (国务院办公厅关于部分节假日安排的通知)."""

import logging
from datetime import date, datetime, timezone

import pytest

from engine import clock, workdays
from engine.clock import TZ
from engine.workdays import CalendarWarning, WorkCalendar, add_months


@pytest.fixture
def cal():
    return WorkCalendar()


# -- add_months ------------------------------------------------------------


@pytest.mark.parametrize(
    "start, n, expected",
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 5, 20), 0, date(2026, 5, 20)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(start, n, expected):
    assert add_months(start, n) == expected


def test_add_months_keeps_time_and_zone_of_datetimes():
    start = datetime(2026, 1, 31, 10, 0, tzinfo=TZ)
    result = add_months(start, 1)
    assert result == datetime(2026, 2, 28, 10, 0, tzinfo=TZ)
    assert result.tzinfo is TZ
    assert type(add_months(date(2026, 1, 31), 1)) is date


def test_add_months_rejects_non_integers():
    with pytest.raises(TypeError):
        add_months(date(2026, 1, 31), 1.5)
    with pytest.raises(TypeError):
        add_months("2026-01-31", 1)


# -- single days -------------------------------------------------------------


def test_national_day_2025(cal):
    # 10月1日至8日放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
    for day in range(1, 9):
        assert not cal.is_working_day(date(2025, 10, day)), f"10-{day:02d}"
    assert cal.is_working_day(date(2025, 9, 28))  # Sunday, swapped
    assert cal.is_working_day(date(2025, 10, 11))  # Saturday, swapped
    assert not cal.is_working_day(date(2025, 9, 27))  # ordinary Saturday
    assert not cal.is_working_day(date(2025, 10, 12))  # ordinary Sunday
    assert cal.is_working_day(date(2025, 10, 9))
    assert cal.warnings == []


def test_spring_festival_2026(cal):
    # 2月15日至23日放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
    for day in range(15, 24):
        assert not cal.is_working_day(date(2026, 2, day)), f"02-{day}"
    assert cal.is_working_day(date(2026, 2, 14))
    assert cal.is_working_day(date(2026, 2, 28))
    assert cal.is_working_day(date(2026, 2, 24))


def test_new_year_2026(cal):
    # 1月1日至3日放假调休，共3天。1月4日（周日）上班。
    assert not cal.is_working_day(date(2026, 1, 1))
    assert not cal.is_working_day(date(2026, 1, 2))
    assert not cal.is_working_day(date(2026, 1, 3))
    assert cal.is_working_day(date(2026, 1, 4))


def test_aware_datetime_is_judged_by_its_beijing_date(cal):
    # 2025-09-30 17:00 UTC is 2025-10-01 01:00 in Beijing: National Day.
    assert not cal.is_working_day(datetime(2025, 9, 30, 17, 0, tzinfo=timezone.utc))
    assert cal.is_working_day(datetime(2025, 9, 30, 15, 0, tzinfo=timezone.utc))


# -- counting ------------------------------------------------------------------


def test_one_working_day_after_sep_30_is_oct_9(cal):
    assert cal.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)


def test_seven_working_days_after_friday_sep_26_2025(cal):
    # 9-28 Sun(1) 9-29(2) 9-30(3) | 10-01..08 off | 10-09(4) 10-10(5)
    # 10-11 Sat swapped(6) | 10-12 Sun off | 10-13(7)
    start = date(2025, 9, 26)
    expected = [
        date(2025, 9, 28), date(2025, 9, 29), date(2025, 9, 30),
        date(2025, 10, 9), date(2025, 10, 10), date(2025, 10, 11),
        date(2025, 10, 13),
    ]
    assert [cal.add_working_days(start, n) for n in range(1, 8)] == expected
    assert cal.working_days_between(start, date(2025, 10, 13)) == 7
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 8)) == 0


def test_working_days_across_spring_festival_2026(cal):
    start = date(2026, 2, 13)  # Friday before the holiday
    assert cal.add_working_days(start, 1) == date(2026, 2, 14)  # swapped Saturday
    assert cal.add_working_days(start, 2) == date(2026, 2, 24)
    assert cal.working_days_between(start, date(2026, 2, 28)) == 6  # 14, 24-28


def test_zero_working_days_rolls_a_holiday_forward(cal):
    assert cal.add_working_days(date(2025, 10, 1), 0) == date(2025, 10, 9)
    assert cal.add_working_days(date(2025, 10, 11), 0) == date(2025, 10, 11)
    assert cal.add_working_days(date(2025, 10, 12), 0) == date(2025, 10, 13)


def test_negative_working_days_count_backwards(cal):
    assert cal.add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)
    # 3 working days before 2026-02-24: 02-14, 02-13, 02-12
    assert cal.add_working_days(date(2026, 2, 24), -3) == date(2026, 2, 12)


def test_working_days_between_is_half_open_and_signed(cal):
    assert cal.working_days_between(date(2025, 10, 9), date(2025, 10, 9)) == 0
    assert cal.working_days_between(date(2025, 10, 8), date(2025, 10, 9)) == 1
    assert cal.working_days_between(date(2025, 10, 13), date(2025, 9, 26)) == -7


def test_new_year_2026_swap_counts(cal):
    assert cal.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)


def test_counting_rejects_bools_and_floats(cal):
    with pytest.raises(TypeError):
        cal.add_working_days(date(2025, 10, 9), True)
    with pytest.raises(TypeError):
        cal.add_working_days(date(2025, 10, 9), 1.0)


# -- years the package does not know ------------------------------------------


def test_unknown_year_counts_the_statutory_holidays_and_weekends_with_one_warning(cal, caplog, monkeypatch):
    monkeypatch.setattr(workdays, "_logged_on", {})  # another test in this process may have logged 2027 today
    caplog.set_level(logging.WARNING, logger="engine.workdays")
    assert not cal.covered(2027)
    assert not cal.is_working_day(date(2027, 1, 1))  # a Friday, 元旦 by law
    assert not cal.is_working_day(date(2027, 1, 2))  # Saturday
    assert cal.is_working_day(date(2027, 1, 4))  # Monday: a bridging day off only if the office enters it
    # 春节 5–8 February (除夕 to 初三), 初一 and 初二 on the weekend made up on 9 and 10 February (第六条)
    assert [cal.is_working_day(date(2027, 2, d)) for d in range(4, 12)] == [True] + [False] * 6 + [True]
    assert len(cal.warnings) == 1
    warning = cal.warnings[0]
    assert isinstance(warning, CalendarWarning)
    assert warning.year == 2027
    assert "暂按法定节假日和周末计算，调休未录入" in warning.message
    assert "statutory holidays and weekends only, no swapped days" in warning.message
    assert any("2027" in r.getMessage() for r in caplog.records)


def test_fifteen_working_days_from_20_december_2026_skip_new_years_day_2027(cal):
    """Counted in December, before the office enters 2027: 15 working days from Sunday 20 December
    end on Monday 11 January, not on Friday 8 January as with 1 January a working day; and the
    count still says it is a guess."""
    assert cal.add_working_days(date(2026, 12, 20), 15) == date(2027, 1, 11)
    assert [w.year for w in cal.warnings] == [2027]


def test_counting_into_an_unknown_year_never_raises(cal):
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert cal.add_working_days(date(2026, 12, 30), 400) > date(2028, 1, 1)
    assert {w.year for w in cal.warnings} == {2027, 2028}
    assert cal.working_days_between(date(2027, 1, 1), date(2027, 1, 8)) == 5
    assert cal.working_days_between(date(2027, 2, 4), date(2027, 2, 11)) == 1  # 春节 5–8 February, made up 9–10
    assert cal.is_working_day(date(2003, 1, 6))  # before the package's range
    assert not cal.is_working_day(date(2103, 1, 1))  # a Monday past both packages: 元旦 still


def test_covered(cal):
    assert cal.covered(2004)
    assert cal.covered(2025)
    assert cal.covered(2026)
    assert not cal.covered(2003)
    assert not cal.covered(2027)
    assert not cal.covered(10000)


def test_override_table_wins_for_an_unknown_year():
    cal = WorkCalendar({date(2027, 1, 4): False, date(2027, 2, 20): True})  # a bridging day, a working Saturday
    assert cal.covered(2027)
    assert not cal.is_working_day(date(2027, 1, 4))
    assert cal.is_working_day(date(2027, 2, 20))
    assert not cal.is_working_day(date(2027, 1, 1))  # not in the table: the law's 元旦
    assert cal.is_working_day(date(2027, 1, 5))  # not in the table: Mon-Fri
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 5)
    assert cal.warnings == []  # the admin took responsibility for 2027


def test_an_entry_is_compared_with_the_law_in_a_year_nobody_entered():
    """`calendar set` and `calendar import` refuse 上班 on a day that works anyway; a statutory
    holiday on a weekday is not such a day, and 放假 on it changes nothing but is accepted."""
    from engine.workdays import before_entries, pointless_entry
    assert not before_entries(date(2027, 1, 1)) and before_entries(date(2027, 1, 4))
    assert pointless_entry(date(2027, 1, 1), False) is None  # 元旦 entered as 放假, as the notice says
    assert pointless_entry(date(2027, 1, 4), False) is None  # a bridging day off
    assert pointless_entry(date(2027, 1, 4), True) is not None  # 上班 on a Monday: a mistyped date
    # 上班 on 春节's Monday, or on 国庆节 in a year the package knows: no notice says so
    assert pointless_entry(date(2027, 2, 8), True) == (
        "2027-02-08 是法定节假日（春节），放假安排不会把它调为上班；请核对日期",
        "2027-02-08 is a statutory holiday (Spring Festival): no notice makes it a working day; check the date")
    assert pointless_entry(date(2026, 10, 1), True) is not None
    assert pointless_entry(date(2027, 2, 9), True) is None  # a guessed make-up day: the notice may choose another
    assert pointless_entry(date(2027, 2, 13), True) is None  # a Saturday worked: what notices do


def test_override_table_wins_over_the_package():
    cal = WorkCalendar({date(2025, 10, 11): False, date(2025, 10, 8): True})
    assert not cal.is_working_day(date(2025, 10, 11))
    assert cal.is_working_day(date(2025, 10, 8))
    assert cal.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 8)
    assert cal.overrides[date(2025, 10, 11)] is False
    with pytest.raises(TypeError):
        cal.overrides[date(2025, 10, 12)] = True  # read-only view


def test_override_table_is_validated():
    with pytest.raises(TypeError):
        WorkCalendar({datetime(2027, 1, 1): False})
    with pytest.raises(TypeError):
        WorkCalendar({date(2027, 1, 1): "false"})
    with pytest.raises(TypeError):
        WorkCalendar({"2027-01-01": False})


def test_the_make_up_days_are_guessed_only_until_the_office_enters_the_year():
    """1–3 October 2027 are Friday to Sunday: the law's 补假 is guessed on 4 and 5 October; once a
    notice is entered for 2027 it names its own make-up days, and a day it leaves out is worked."""
    guessed, entered = WorkCalendar(), WorkCalendar({date(2027, 1, 4): False})
    assert [guessed.is_working_day(date(2027, 10, d)) for d in range(1, 7)] == [False] * 5 + [True]
    assert [entered.is_working_day(date(2027, 10, d)) for d in range(1, 7)] == [False] * 3 + [True] * 3
    assert not entered.is_working_day(date(2027, 1, 1))  # the holiday itself stays off by law


def test_the_log_says_a_year_nobody_entered_once_a_day_per_process_and_each_calendar_still_records_it(caplog, monkeypatch):
    """`init --demo` on 31 December wrote the same English line once per plan it drove (every
    command builds its own calendar); each calendar still keeps its warning for the trail."""
    monkeypatch.setattr(workdays, "_logged_on", {})
    caplog.set_level(logging.WARNING, logger="engine.workdays")
    with clock.frozen(datetime(2026, 12, 31, 9)):
        with workdays.unlogged():  # the calendar page's count, which says it itself: not the log's turn
            WorkCalendar().add_working_days(date(2026, 12, 31), 5)
        calendars = [WorkCalendar() for _ in range(3)]
        for cal in calendars:
            cal.add_working_days(date(2026, 12, 31), 5)
    with clock.frozen(datetime(2027, 1, 1, 9)):
        WorkCalendar().add_working_days(date(2026, 12, 31), 5)
    assert [cal.warnings[0].year for cal in calendars] == [2027] * 3
    assert [r.getMessage().split("，")[0] for r in caplog.records] == ["尚无 2027 年节假日安排"] * 2  # 31 December, then 1 January
