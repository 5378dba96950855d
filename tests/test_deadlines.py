"""Timer values and due dates as a Chinese civil servant reads them."""

from datetime import date, datetime, timedelta, timezone

import pytest
from dateutil.relativedelta import relativedelta

from engine import clock
from engine.clock import TZ
from engine.deadlines import (
    DEADLINE_FUNCTION_NAMES,
    Cycle,
    TimerValueError,
    add_duration,
    deadline_functions,
    due_at,
    end_of_local_day,
    is_iso_cycle,
    is_iso_date_or_datetime,
    is_iso_duration,
    parse_cycle,
    parse_date_or_datetime,
    parse_duration,
)
from engine.workdays import WorkCalendar

UTC = timezone.utc
JAN31_10AM = datetime(2026, 1, 31, 10, 0, tzinfo=TZ)


# -- recognising values ----------------------------------------------------


@pytest.mark.parametrize("text", ["P7D", "PT36H", "P1M", "P1Y2M", "P2W", "P1DT12H", "PT90M", "P0D", "p7d", " P7D "])
def test_is_iso_duration_accepts(text):
    assert is_iso_duration(text)


@pytest.mark.parametrize("text", ["P1.5M", "P", "PT", "P1DT", "7D", "P1W2D", "-P1D", "P1H", "", "2026-12-01", None, 7])
def test_is_iso_duration_rejects(text):
    assert not is_iso_duration(text)


@pytest.mark.parametrize(
    "text",
    ["2026-12-01", "2026-12-01T09:00:00+08:00", "2026-12-01T09:00", "2026-12-01T01:00:00Z", "2026-12-01 09:00:00"],
)
def test_is_iso_date_or_datetime_accepts(text):
    assert is_iso_date_or_datetime(text)


@pytest.mark.parametrize("text", ["2026-02-30", "20261201", "2026-12-01T25:00", "P7D", "12/01/2026", "", None])
def test_is_iso_date_or_datetime_rejects(text):
    assert not is_iso_date_or_datetime(text)


@pytest.mark.parametrize("text", ["R3/P1D", "R/P1W", "R3/2026-01-01T09:00:00+08:00/P1D", "R12/P1M/2026-12-31"])
def test_is_iso_cycle_accepts(text):
    assert is_iso_cycle(text)


@pytest.mark.parametrize("text", ["R3", "R3/P0D", "P1D", "R3/2026-01-01/2026-01-02", "R3/P1.5D", "R-1/P1D", None])
def test_is_iso_cycle_rejects(text):
    assert not is_iso_cycle(text)


def test_parse_cycle_parts():
    assert parse_cycle("R3/P1D") == Cycle(3, None, relativedelta(days=1), None)
    assert parse_cycle("R/P1W").repetitions is None
    started = parse_cycle("R2/2026-01-01T09:00:00/P1M")
    assert started.start == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert started.duration == relativedelta(months=1)


# -- parsing durations -------------------------------------------------------


def test_parse_duration_components():
    assert parse_duration("P1Y2M") == relativedelta(years=1, months=2)
    assert parse_duration("PT36H") == relativedelta(hours=36)
    assert parse_duration("P2W") == relativedelta(days=14)
    assert parse_duration("P1DT2H3M4S") == relativedelta(days=1, hours=2, minutes=3, seconds=4)


def test_fractional_months_are_refused_with_a_clear_message():
    with pytest.raises(TimerValueError, match="fractional months are not allowed") as info:
        parse_duration("P1.5M")
    assert "P1.5M" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_absurdly_long_duration_is_refused():
    with pytest.raises(TimerValueError, match="too long"):
        parse_duration("P99999999Y")


def test_parse_date_or_datetime_types():
    assert parse_date_or_datetime("2026-02-28") == date(2026, 2, 28)
    value = parse_date_or_datetime("2026-12-01T09:00:00")
    assert value == datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
    with pytest.raises(TimerValueError, match="2026-02-30"):
        parse_date_or_datetime("2026-02-30")


# -- adding durations -----------------------------------------------------------


def test_one_calendar_month_after_jan_31_is_feb_28():
    result = add_duration(JAN31_10AM, "P1M")
    assert result == datetime(2026, 2, 28, 10, 0, tzinfo=TZ)
    assert result.tzinfo == UTC
    assert result == datetime(2026, 2, 28, 2, 0, tzinfo=UTC)


def test_spiffworkflow_alone_would_make_p1m_land_on_march_3():
    # Why we resolve durations ourselves: SpiffWorkflow adds the length of
    # the start month (31 days), overshooting February entirely.
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    start = JAN31_10AM.astimezone(UTC)
    spiff = start + TimerEventDefinition.get_timedelta_from_start({"months": 1}, start)
    assert spiff.astimezone(TZ).date() == date(2026, 3, 3)
    assert add_duration(start, "P1M").astimezone(TZ).date() == date(2026, 2, 28)


def test_add_duration_cases():
    assert add_duration(datetime(2024, 1, 31, 9, 0, tzinfo=TZ), "P1M") == datetime(2024, 2, 29, 9, 0, tzinfo=TZ)
    assert add_duration(datetime(2024, 2, 29, 9, 0, tzinfo=TZ), "P1Y") == datetime(2025, 2, 28, 9, 0, tzinfo=TZ)
    assert add_duration(datetime(2026, 3, 31, 9, 0, tzinfo=TZ), "P1M") == datetime(2026, 4, 30, 9, 0, tzinfo=TZ)
    assert add_duration(datetime(2026, 12, 15, 9, 0, tzinfo=TZ), "P1M") == datetime(2027, 1, 15, 9, 0, tzinfo=TZ)
    assert add_duration(datetime(2025, 9, 30, 9, 0, tzinfo=TZ), "PT36H") == datetime(2025, 10, 1, 21, 0, tzinfo=TZ)
    assert add_duration(datetime(2026, 2, 13, 9, 0, tzinfo=TZ), "P2W") == datetime(2026, 2, 27, 9, 0, tzinfo=TZ)
    assert add_duration(datetime(2026, 1, 31, 10, 0), relativedelta(months=1)) == datetime(2026, 2, 28, 2, 0, tzinfo=UTC)


def test_month_arithmetic_uses_the_beijing_date_not_the_utc_date():
    # 2026-03-31 01:00 Beijing is 2026-03-30 17:00 UTC; one month later
    # must be 04-30 (from 03-31), not 04-30 computed from UTC 03-30 -> 05-01 Beijing.
    start = datetime(2026, 3, 30, 17, 0, tzinfo=UTC)
    assert add_duration(start, "P1M") == datetime(2026, 4, 30, 1, 0, tzinfo=TZ)


def test_add_duration_out_of_range_is_a_timer_error():
    with pytest.raises(TimerValueError, match="date range"):
        add_duration(datetime(9999, 6, 1, tzinfo=TZ), "P1Y")
    with pytest.raises(TimerValueError):
        add_duration(date(2026, 1, 1), "P1D")


# -- due_at ---------------------------------------------------------------------


def test_due_at_duration():
    assert due_at("P1M", JAN31_10AM) == datetime(2026, 2, 28, 10, 0, tzinfo=TZ)
    assert due_at("P7D", JAN31_10AM) == datetime(2026, 2, 7, 10, 0, tzinfo=TZ)
    assert due_at("P1M", JAN31_10AM).tzinfo == UTC


def test_due_at_date_means_end_of_that_beijing_day():
    expected = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # = 2026-03-01 00:00 +08
    assert due_at("2026-02-28", JAN31_10AM) == expected
    assert due_at(date(2026, 2, 28), JAN31_10AM) == expected
    assert expected == datetime(2026, 3, 1, 0, 0, tzinfo=TZ)
    assert end_of_local_day(date(2024, 2, 29)) == datetime(2024, 3, 1, 0, 0, tzinfo=TZ)


def test_due_at_datetime_is_that_instant():
    assert due_at("2026-12-01T09:00:00+08:00", JAN31_10AM) == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert due_at("2026-12-01T09:00:00", JAN31_10AM) == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert due_at("2026-12-01T01:00:00Z", JAN31_10AM) == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert due_at(datetime(2026, 12, 1, 9, 0), JAN31_10AM) == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    aware = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
    assert due_at(aware, JAN31_10AM) == aware
    assert due_at(aware, JAN31_10AM).tzinfo == UTC


def test_due_at_naive_now_means_beijing():
    assert due_at("P1D", datetime(2026, 1, 31, 10, 0)) == datetime(2026, 2, 1, 10, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    "value, message",
    [
        ("R3/P1D", "cycle"),
        ("R3/XX", "R3/XX"),
        ("P1.5M", "fractional months"),
        ("next Friday", "next Friday"),
        ("2026-02-30", "2026-02-30"),
        ("", "''"),
        (None, "None"),
        (7, "7"),
        (timedelta(days=1), "timedelta"),
        (["2026-12-01"], "2026-12-01"),
    ],
)
def test_due_at_rejects_with_a_message_naming_the_value(value, message):
    with pytest.raises(TimerValueError) as info:
        due_at(value, JAN31_10AM)
    assert message in str(info.value)


# -- functions for expressions ------------------------------------------------------


def _functions(at):
    with clock.frozen(at):
        return deadline_functions(clock.now(), WorkCalendar())


def test_function_names_match_the_checker_list():
    assert set(_functions(JAN31_10AM)) == DEADLINE_FUNCTION_NAMES
    assert DEADLINE_FUNCTION_NAMES == {
        "workingDays", "addWorkingDays", "periodEnd", "addMonths", "addDays", "today", "now", "date",
    }


def test_working_days_15_across_spring_festival_2026():
    # Today Sat 2026-01-31. Working days: 02-02..06 (5), 02-09..13 (10),
    # Sat 02-14 swapped (11), holiday 02-15..23, 02-24..27 (15).
    fns = _functions(JAN31_10AM)
    assert fns["today"]() == date(2026, 1, 31)
    assert fns["workingDays"](15) == date(2026, 2, 27)
    # a deadline date: due at the end of 2月27日
    assert due_at(fns["workingDays"](15), fns["now"]()) == datetime(2026, 2, 28, 0, 0, tzinfo=TZ)


def test_working_days_15_across_national_day_2025():
    # Fri 2025-09-26: 7th working day is 10-13 (see test_workdays), then
    # 10-14, 15, 16, 17, 20, 21, 22, 23 -> the 15th is Thu 2025-10-23.
    fns = _functions(datetime(2025, 9, 26, 16, 0, tzinfo=TZ))
    assert fns["workingDays"](15) == date(2025, 10, 23)
    assert fns["workingDays"](0) == date(2025, 9, 26)


def test_working_days_count_from_the_beijing_date():
    # 2025-10-10 16:30 UTC is already Saturday 10-11 00:30 in Beijing, a
    # swapped working day; the next working day after it is Monday 10-13.
    fns = _functions(datetime(2025, 10, 10, 16, 30, tzinfo=UTC))
    assert fns["today"]() == date(2025, 10, 11)
    assert fns["workingDays"](1) == date(2025, 10, 13)
    assert fns["now"]() == datetime(2025, 10, 11, 0, 30, tzinfo=TZ)
    assert fns["now"]().utcoffset() == timedelta(hours=8)


def test_add_working_days_accepts_dates_datetimes_and_text():
    fns = _functions(JAN31_10AM)
    assert fns["addWorkingDays"](date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert fns["addWorkingDays"]("2025-09-30", 1) == date(2025, 10, 9)
    assert fns["addWorkingDays"]("2025-09-30T20:00:00+08:00", 1) == date(2025, 10, 9)
    assert fns["addWorkingDays"](datetime(2025, 9, 30, 17, 0, tzinfo=UTC), 0) == date(2025, 10, 9)
    assert fns["addWorkingDays"]("2026-02-24", -3) == date(2026, 2, 12)


def test_add_months_and_add_days_functions():
    fns = _functions(JAN31_10AM)
    assert fns["addMonths"]("2026-01-31", 1) == date(2026, 2, 28)
    assert fns["addMonths"](date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert fns["addMonths"](date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert fns["addMonths"](fns["today"](), 1) == date(2026, 2, 28)
    assert fns["addMonths"](fns["now"](), 1) == datetime(2026, 2, 28, 10, 0, tzinfo=TZ)
    assert fns["addMonths"]("2026-01-31T10:00:00+08:00", 1) == datetime(2026, 2, 28, 10, 0, tzinfo=TZ)
    # calendar days ignore holidays: the day after 9-30 is 10-01
    assert fns["addDays"](date(2025, 9, 30), 1) == date(2025, 10, 1)
    assert fns["addDays"]("2026-02-27", 2) == date(2026, 3, 1)
    assert fns["addDays"](datetime(2026, 2, 28, 10, 0, tzinfo=TZ), 1) == datetime(2026, 3, 1, 10, 0, tzinfo=TZ)
    assert fns["date"]("2026-02-28") == date(2026, 2, 28)
    assert fns["date"]("2026-02-28T20:00:00Z") == date(2026, 3, 1)  # Beijing date


@pytest.mark.parametrize(
    "name, args, message",
    [
        ("workingDays", (1.5,), "workingDays(): n must be a whole number"),
        ("workingDays", (True,), "whole number"),
        ("workingDays", ("3",), "'3'"),
        ("workingDays", (10001,), "10001"),
        ("workingDays", (-10001,), "-10001"),
        ("addWorkingDays", ("2026-02-30", 1), "2026-02-30"),
        ("addWorkingDays", (None, 1), "addWorkingDays(): expected a date"),
        ("addWorkingDays", (date(2026, 1, 1), None), "None"),
        ("addMonths", ("end of month", 1), "end of month"),
        ("addMonths", (date(2026, 1, 31), 0.5), "0.5"),
        ("addMonths", (date(9999, 12, 1), 1), "date range"),
        ("addDays", (date(9999, 12, 31), 1), "date range"),
        ("addDays", (20261201, 1), "20261201"),
        ("periodEnd", ("2026-02-30",), "periodEnd(): "),
        ("periodEnd", (None,), "periodEnd(): expected a date"),
        ("periodEnd", (20261201,), "20261201"),
        ("date", ("P7D",), "P7D"),
        ("date", (20261201,), "20261201"),
    ],
)
def test_bad_function_arguments_raise_timer_value_error(name, args, message):
    fns = _functions(JAN31_10AM)
    with pytest.raises(TimerValueError) as info:
        fns[name](*args)
    assert message in str(info.value)


def test_limits_are_inclusive_and_never_raise_for_unknown_years():
    calendar = WorkCalendar()
    fns = deadline_functions(JAN31_10AM, calendar)
    assert fns["workingDays"](10000) > date(2060, 1, 1)
    assert fns["workingDays"](-10000) < date(1990, 1, 1)
    assert {w.year for w in calendar.warnings} >= {2027, 2003}


# -- periodEnd: the last day of a period that ends on a day off (《民法典》第二百零三条) --------


@pytest.mark.parametrize("day, end", [
    ("2026-03-04", date(2026, 3, 4)),    # a Wednesday: a working day stays
    ("2026-03-07", date(2026, 3, 9)),    # Saturday -> Monday
    ("2026-03-08", date(2026, 3, 9)),    # Sunday -> Monday
    ("2026-02-14", date(2026, 2, 14)),   # Saturday swapped to a working day before the Spring Festival (调休上班)
    ("2026-02-28", date(2026, 2, 28)),   # the one after it
    ("2026-09-20", date(2026, 9, 20)),   # Sunday worked before National Day
    ("2026-02-15", date(2026, 2, 24)),   # the Spring Festival holiday (15-23 February) -> the first working day after
    ("2026-02-23", date(2026, 2, 24)),
    ("2026-10-01", date(2026, 10, 8)),   # National Day (1-7 October) -> 8 October
    ("2026-10-07", date(2026, 10, 8)),
    ("2026-05-05", date(2026, 5, 6)),    # the last day of the Labour Day holiday
])
def test_period_end_moves_a_day_off_to_the_next_working_day(day, end):
    fns = _functions(JAN31_10AM)
    assert fns["periodEnd"](day) == end
    assert fns["periodEnd"](date.fromisoformat(day)) == end


def test_period_end_takes_the_beijing_date_of_a_datetime_and_composes_with_add_months():
    fns = _functions(JAN31_10AM)
    # 2026-03-06 20:00 UTC is already Saturday 7 March in Beijing
    assert fns["periodEnd"](datetime(2026, 3, 6, 20, 0, tzinfo=UTC)) == date(2026, 3, 9)
    assert fns["periodEnd"]("2026-03-06T20:00:00Z") == date(2026, 3, 9)
    # one month from 2026-09-01 is Thursday 1 October, in the National Day holiday
    assert fns["periodEnd"](fns["addMonths"]("2026-09-01", 1)) == date(2026, 10, 8)
    assert fns["periodEnd"](fns["addDays"]("2026-09-01", 33)) == date(2026, 10, 8)


def test_period_end_follows_the_calendar_s_entries():
    # an extra local day off entered by the office moves the end; a day entered as worked keeps it
    calendar = WorkCalendar({date(2026, 3, 4): False, date(2026, 3, 7): True})
    fns = deadline_functions(JAN31_10AM, calendar)
    assert fns["periodEnd"]("2026-03-04") == date(2026, 3, 5)
    assert fns["periodEnd"]("2026-03-07") == date(2026, 3, 7)


def test_period_end_in_a_year_the_calendar_does_not_know_counts_the_statutory_holidays_and_warns():
    calendar = WorkCalendar()
    fns = deadline_functions(JAN31_10AM, calendar)
    assert fns["periodEnd"]("2027-01-31") == date(2027, 2, 1)   # a Sunday
    assert fns["periodEnd"]("2027-02-05") == date(2027, 2, 11)  # 除夕 to 初三 by law, then the weekend's 补假
    assert fns["periodEnd"]("2027-03-05") == date(2027, 3, 5)   # a Friday
    assert [w.year for w in calendar.warnings] == [2027]


def test_period_end_beyond_the_last_date_is_out_of_range():
    fns = deadline_functions(JAN31_10AM, WorkCalendar({date(9999, 12, 31): False}))
    with pytest.raises(TimerValueError, match="periodEnd\\(\\): result is outside the supported date range"):
        fns["periodEnd"](date(9999, 12, 31))
