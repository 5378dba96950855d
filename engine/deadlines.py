"""Resolving BPMN timer values and user-task due dates.

Analysts write timers and due dates as one of

* an ISO 8601 duration -- ``P7D``, ``PT36H``, ``P1M``, ``P1Y2M``, ``P2W``;
* a date -- ``2026-12-01`` -- meaning "by the end of that day";
* a datetime -- ``2026-12-01T09:00:00+08:00``; naive means Asia/Shanghai;
* a cycle -- ``R3/P1D`` (only for cycle timers, never a due date);
* an expression whose *value* is one of the above or a ``date``/``datetime``.

Months are **calendar** months: a month after 2026-01-31 is 2026-02-28,
as a civil servant reads "一个月内".  (SpiffWorkflow itself turns ``P1M``
into "the number of days in the start month", which lands on 03-03.)
Arithmetic is done on Asia/Shanghai wall-clock time (the zone has had no
DST since 1991) and instants are returned as aware UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, NamedTuple

from dateutil.relativedelta import relativedelta

from .clock import TZ
from .errors import BilingualValueError
from .expressions import spend
from .workdays import WorkCalendar, add_months, as_local_date

__all__ = [
    "TimerValueError",
    "Cycle",
    "is_iso_duration",
    "is_iso_date_or_datetime",
    "is_iso_cycle",
    "parse_duration",
    "parse_date_or_datetime",
    "parse_cycle",
    "add_duration",
    "end_of_local_day",
    "due_at",
    "deadline_functions",
    "DEADLINE_FUNCTION_NAMES",
    "MAX_FUNCTION_INT",
]


class TimerValueError(BilingualValueError):
    """A timer or due-date value the engine cannot use; the message names it, Chinese first with
    the English in brackets (`zh` and `en` hold the two parts)."""


#: Bound on integer arguments of the expression functions (about 27 years
#: of days / 833 years of months): large enough for any plan, small enough
#: that a typo cannot make the engine loop for minutes.
MAX_FUNCTION_INT = 10_000

#: Work (engine/expressions.py MAX_WORK) charged for each day a working-day count walks: a day of a
#: year the holiday package does not know costs ~25-55 µs, an item the size checks visit ~0.5-1.5 µs.
#: The budget then walks ~50 000 days, a few seconds at most, as the size checks take; a
#: deadline of 15 working days (~21 days) costs ~840 of the 2 000 000.
WORK_PER_DAY = 40

# Longest accepted duration, in approximate days (~10000 years); beyond it
# every date overflows anyway, so say so clearly at parse time.
_MAX_DURATION_DAYS = 3_660_000

_NUM = r"(\d+(?:[.,]\d+)?)"
_DURATION_RE = re.compile(
    rf"P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:(T)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?",
    re.IGNORECASE,
)
_UNITS = ("years", "months", "weeks", "days", None, "hours", "minutes", "seconds")
_DAYS_PER_UNIT = {
    "years": 366, "months": 31, "weeks": 7, "days": 1,
    "hours": 1 / 24, "minutes": 1 / 1440, "seconds": 1 / 86400,
}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
_CYCLE_RE = re.compile(r"R(\d*)/([^/]+)(?:/([^/]+))?", re.IGNORECASE)


def _show(value: Any) -> str:
    """repr() of a bad value, shortened so messages stay readable."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _bad(value: Any, reason_zh: str, reason: str) -> TimerValueError:
    return TimerValueError(f"定时器或期限值 {_show(value)} 无效：{reason_zh}",
                           f"invalid timer/due-date value {_show(value)}: {reason}")


_UNITS_ZH = {"years": "年", "months": "月", "weeks": "周", "days": "天", "hours": "小时", "minutes": "分钟",
             "seconds": "秒"}


# -- durations ---------------------------------------------------------


def parse_duration(text: str) -> relativedelta:
    """Parse an ISO 8601 duration into a calendar-aware ``relativedelta``.

    Only whole numbers are accepted: "1.5 months" has no unambiguous
    calendar meaning.  Weeks cannot be mixed with other units (ISO 8601
    basic rule, and SpiffWorkflow rejects it too).
    """
    if not isinstance(text, str):
        raise _bad(text, "时长须为 'P7D' 这样的文本", "a duration must be a string like 'P7D'")
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None:
        raise _bad(text, "不是 ISO 8601 时长（如 P7D、PT36H、P1M、P1Y2M、P2W）",
                   "not an ISO 8601 duration (e.g. P7D, PT36H, P1M, P1Y2M, P2W)")
    parts = {unit: raw for unit, raw in zip(_UNITS, match.groups()) if unit and raw is not None}
    if not parts:
        raise _bad(text, "时长至少要有一个数字和单位", "a duration needs at least one number and unit")
    if match.group(5) and not any(u in parts for u in ("hours", "minutes", "seconds")):
        raise _bad(text, "'T' 后面须跟小时、分钟或秒", "'T' must be followed by hours, minutes or seconds")
    if "weeks" in parts and len(parts) > 1:
        raise _bad(text, "周不能与其他单位同时使用，请改用天", "weeks cannot be combined with other units; use days")
    for unit, raw in parts.items():
        if len(raw) > 15:  # int() of thousands of digits fails (and no duration needs 16)
            raise _bad(text, "时长过长", "duration is too long")
        if not raw.isdigit():
            raise _bad(text, f"{_UNITS_ZH[unit]}数不能是小数，请用更小单位的整数",
                       f"fractional {unit} are not allowed; use whole numbers of a smaller unit")
    values = {unit: int(raw) for unit, raw in parts.items()}
    if sum(v * _DAYS_PER_UNIT[u] for u, v in values.items()) > _MAX_DURATION_DAYS:
        raise _bad(text, "时长过长", "duration is too long")
    return relativedelta(**values)


def is_iso_duration(text: Any) -> bool:
    """True if :func:`parse_duration` accepts ``text``."""
    try:
        parse_duration(text)
    except TimerValueError:
        return False
    return True


# -- dates and datetimes -------------------------------------------------


def _localize(dt: datetime) -> datetime:
    """Attach Asia/Shanghai to a naive datetime; analysts write local time."""
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        return dt.replace(tzinfo=TZ)
    return dt


def _to_utc(dt: datetime) -> datetime:
    return _localize(dt).astimezone(timezone.utc)


def parse_date_or_datetime(text: str) -> date | datetime:
    """Parse ``YYYY-MM-DD`` to a ``date`` or an ISO datetime to an aware
    ``datetime`` (naive = Asia/Shanghai).  Only the extended ISO form is
    accepted so that e.g. ``20261201`` is not mistaken for a number."""
    if not isinstance(text, str):
        raise _bad(text, "须为 ISO 日期或日期时间文本", "expected an ISO date or datetime string")
    stripped = text.strip()
    try:
        if _DATE_RE.fullmatch(stripped):
            return date.fromisoformat(stripped)
        if _DATETIME_RE.fullmatch(stripped):
            value = _localize(datetime.fromisoformat(stripped))
            value.astimezone(timezone.utc)  # 0001-01-01T00:00 in China is before the year 1 in UTC
            return value
    except (ValueError, OverflowError) as exc:
        raise _bad(text, "没有这个日期或时间", f"no such date/time ({exc})") from None
    raise _bad(text, "不是 ISO 日期（2026-12-01）或日期时间（2026-12-01T09:00:00+08:00）",
               "not an ISO date (2026-12-01) or datetime (2026-12-01T09:00:00+08:00)")


def is_iso_date_or_datetime(text: Any) -> bool:
    """True if :func:`parse_date_or_datetime` accepts ``text``."""
    try:
        parse_date_or_datetime(text)
    except TimerValueError:
        return False
    return True


def end_of_local_day(d: date) -> datetime:
    """The instant a deadline *date* expires: next day 00:00 Asia/Shanghai,
    as aware UTC -- "2月28日前" includes the whole of 28 February."""
    try:
        midnight = datetime.combine(d + timedelta(days=1), time(0), TZ)
    except OverflowError:
        raise _bad(d, "日期超出范围", "date out of range") from None
    return midnight.astimezone(timezone.utc)


# -- cycles --------------------------------------------------------------


class Cycle(NamedTuple):
    """A parsed ``R[n]/...`` value; ``repetitions`` is None for unbounded."""

    repetitions: int | None
    start: datetime | None
    duration: relativedelta
    end: datetime | None


def _instant(text: str) -> datetime:
    """A cycle's start/end: a date means 00:00 local of that day."""
    value = parse_date_or_datetime(text)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0), TZ)
    return value.astimezone(timezone.utc)


def parse_cycle(text: str) -> Cycle:
    """Parse ``R3/P1D``, ``R/P1W``, ``R3/<start>/P1D`` or ``R3/P1D/<end>``."""
    if not isinstance(text, str):
        raise _bad(text, "周期须为 'R3/P1D' 这样的文本", "a cycle must be a string like 'R3/P1D'")
    match = _CYCLE_RE.fullmatch(text.strip())
    if match is None:
        raise _bad(text, "不是 ISO 8601 周期（如 R3/P1D）", "not an ISO 8601 cycle (e.g. R3/P1D)")
    count, first, second = match.groups()
    if len(count) > 9:
        raise _bad(text, "重复次数过多（上限 999999999）", "too many repetitions (limit 999999999)")
    repetitions = int(count) if count else None
    start = end = None
    try:
        if second is None:
            duration = parse_duration(first)
        elif first.strip()[:1].upper() == "P":
            duration, end = parse_duration(first), _instant(second)
        else:
            start, duration = _instant(first), parse_duration(second)
    except TimerValueError as exc:
        raise _bad(text, f"周期中有一部分无效：{exc.zh}", f"bad cycle part: {exc.en}") from None
    if duration == relativedelta():
        raise _bad(text, "周期间隔不能为零", "a cycle interval must not be zero")
    _check_interval(text, duration)
    return Cycle(repetitions, start, duration, end)


# A cycle repeats a reminder: one more often than hourly fills the plan's trail and task tree
# with firings (R/PT1S fired 600 times in ten minutes), and one longer than a year made
# SpiffWorkflow count its months one by one (R1/P99999999Y never returned).
MIN_CYCLE_INTERVAL = timedelta(hours=1)
MAX_CYCLE_INTERVAL = timedelta(days=366)
_CYCLE_REFERENCE = datetime(2026, 1, 1)


def _length(duration: relativedelta) -> timedelta:
    """A cycle's interval as a fixed length, as SpiffWorkflow repeats it (months of a set length)."""
    return _CYCLE_REFERENCE + duration - _CYCLE_REFERENCE


def _check_interval(text: str, duration: relativedelta) -> None:
    try:
        interval = _length(duration)
    except (OverflowError, ValueError):
        interval = MAX_CYCLE_INTERVAL + timedelta(days=1)
    if interval < MIN_CYCLE_INTERVAL:
        raise _bad(text, "周期间隔至少 1 小时（催办每天或每周一次即可，如 R3/P1D）",
                   "a cycle interval must be at least 1 hour (a reminder daily or weekly will do, e.g. R3/P1D)")
    if interval > MAX_CYCLE_INTERVAL:
        raise _bad(text, "周期间隔至多 1 年", "a cycle interval must be at most 1 year")


def cycle_value(text: Any, now: datetime) -> str:
    """A cycle a timer runs on, as SpiffWorkflow reads it, checked: what parse_cycle accepts, and
    whose first occurrence is not before `now` (a start in the past would fire every occurrence
    since, one engine round each). For the value of a ${...} expression, which the deploy check
    cannot see."""
    cycle = parse_cycle(text)
    first, value = cycle.start, text.strip()
    if cycle.end is not None:
        # R5/P1D/2026-12-31: five repetitions ending then. SpiffWorkflow starts such a cycle one
        # interval before the end and fires on past it: given a start instead, it fires as written.
        if cycle.repetitions is None:
            raise _bad(text, "无限重复的周期不能写终点，请写重复次数，如 R5/P1D/2026-12-31",
                       "a cycle without a count cannot have an end: give the count, e.g. R5/P1D/2026-12-31")
        first = cycle.end - _length(cycle.duration * cycle.repetitions)
        value = f"R{cycle.repetitions}/{first.isoformat()}/{value.split('/')[1].strip()}"
    if first is not None and first < now:
        raise _bad(text, f"周期从 {first.astimezone(TZ):%Y-%m-%d %H:%M} 开始，已经过去；请写不带起止时间的周期"
                   "（如 R3/P1D，从环节开始时起算）",
                   f"the cycle starts at {first.astimezone(TZ):%Y-%m-%d %H:%M}, which has passed; write a cycle "
                   "without a start or end (e.g. R3/P1D, counted from when the step opens)")
    return value


def is_iso_cycle(text: Any) -> bool:
    """True if :func:`parse_cycle` accepts ``text``."""
    try:
        parse_cycle(text)
    except TimerValueError:
        return False
    return True


# -- resolving -----------------------------------------------------------


def add_duration(start: datetime, duration: str | relativedelta) -> datetime:
    """``start`` + ``duration`` in Asia/Shanghai wall-clock time, as aware UTC.

    Calendar months: 2026-01-31 10:00 +08 + P1M = 2026-02-28 10:00 +08.
    A naive ``start`` means Asia/Shanghai.
    """
    if not isinstance(start, datetime):
        raise _bad(start, "时长的起点须为日期时间", "start of a duration must be a datetime")
    delta = duration if isinstance(duration, relativedelta) else parse_duration(duration)
    try:
        local = _localize(start).astimezone(TZ) + delta
    except (OverflowError, ValueError):
        raise _bad(duration, f"加到 {start.isoformat()} 上会超出支持的日期范围",
                   f"adding it to {start.isoformat()} leaves the supported date range") from None
    return local.astimezone(timezone.utc)


def due_at(value: Any, now: datetime) -> datetime:
    """The instant (aware UTC) a timer fires or a task falls due.

    * duration string -> ``now`` + duration (calendar months);
    * date string or ``date`` -> end of that day in Asia/Shanghai;
    * datetime string or ``datetime`` -> that instant (naive = Shanghai);
    * anything else (including cycles) -> :class:`TimerValueError`.
    """
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, got {type(now).__name__}")
    if isinstance(value, datetime):
        return _to_utc(value)
    if isinstance(value, date):
        return end_of_local_day(value)
    if not isinstance(value, str):
        raise _bad(value, "须为时长、日期或日期时间", "expected a duration, date or datetime")
    head = value.strip()[:1].upper()
    if head == "P":
        return add_duration(now, value)
    if head == "R":
        parse_cycle(value)  # a malformed cycle gets the cycle-specific message
        raise _bad(value, "重复周期（R...）不能用作期限，只能用于周期定时器",
                   "a repeating cycle (R...) is not a due date; use it only on a cycle timer")
    parsed = parse_date_or_datetime(value)
    if isinstance(parsed, datetime):
        return _to_utc(parsed)
    return end_of_local_day(parsed)


# -- functions for diagram expressions -----------------------------------


def _int_arg(func: str, name: str, value: Any) -> int:
    """Integer within ±MAX_FUNCTION_INT; bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_FUNCTION_INT:
        raise TimerValueError(
            f"{func}()：{name} 须为 -{MAX_FUNCTION_INT} 到 {MAX_FUNCTION_INT} 之间的整数，实为 {_show(value)}",
            f"{func}(): {name} must be a whole number between "
            f"-{MAX_FUNCTION_INT} and {MAX_FUNCTION_INT}, got {_show(value)}"
        )
    return value


def _date_or_datetime_arg(func: str, value: Any) -> date | datetime:
    """A date/datetime argument, or ISO text parsed into one."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return parse_date_or_datetime(value)
        except TimerValueError as exc:
            raise TimerValueError(f"{func}()：{exc.zh}", f"{func}(): {exc.en}") from None
    raise TimerValueError(f"{func}()：须为日期、日期时间或 ISO 日期文本，实为 {_show(value)}",
                          f"{func}(): expected a date, datetime or ISO date text, got {_show(value)}")


def _date_arg(func: str, value: Any) -> date:
    """As above, reduced to the business (Asia/Shanghai) date."""
    return as_local_date(_date_or_datetime_arg(func, value))


def _shift(func: str, value: date | datetime, delta: relativedelta | timedelta) -> date | datetime:
    """Add ``delta`` on local wall time; an aware datetime keeps its zone."""
    try:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return (value.astimezone(TZ) + delta).astimezone(value.tzinfo)
        return value + delta
    except (OverflowError, ValueError):
        raise _out_of_range(func) from None


def _out_of_range(func: str) -> TimerValueError:
    return TimerValueError(f"{func}()：结果超出支持的日期范围", f"{func}(): result is outside the supported date range")


def last_local_day(due: datetime) -> date:
    """The Beijing date a deadline runs to, `end_of_local_day` undone: a date is due at its end
    (the next midnight), so 31 December is stored as 1 January 00:00 and is still 31 December's."""
    return (due.astimezone(TZ) - timedelta(microseconds=1)).date()


def deadline_functions(now: datetime, calendar: WorkCalendar) -> dict[str, Callable[..., Any]]:
    """Functions diagram expressions may call, bound to one evaluation's
    ``now`` (so every call in an expression sees the same instant) and to
    the deployment's working-day calendar."""
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, got {type(now).__name__}")
    local_now = _localize(now).astimezone(TZ)
    local_today = local_now.date()

    def _working(func: str, start: date, n: int) -> date:
        spend(WORK_PER_DAY * abs(n))  # at least |n| days are walked: refused before walking them
        try:
            end = calendar.add_working_days(start, n)
        except (OverflowError, ValueError):
            raise _out_of_range(func) from None
        spend(WORK_PER_DAY * (abs((end - start).days) - abs(n)))  # the days off walked past too
        return end

    def workingDays(n):  # noqa: N802 - name is part of the diagram language
        """The n-th working day after today: a deadline date."""
        return _working("workingDays", local_today, _int_arg("workingDays", "n", n))

    def addWorkingDays(d, n):  # noqa: N802
        """The n-th working day after date d."""
        start = _date_arg("addWorkingDays", d)
        return _working("addWorkingDays", start, _int_arg("addWorkingDays", "n", n))

    def periodEnd(d):  # noqa: N802
        """The last day of a calendar-day or calendar-month period that ends on date d: d if it
        is a working day, else the first working day after it (《民法典》第二百零三条：期间的最后一日是
        法定休假日的，以法定休假日结束的次日为期间的最后一日; a weekend is a day off, a swapped
        working weekend day, 调休上班, is not). Counted on the working-day calendar as the
        working-day functions are, so it moves when the calendar changes."""
        return _working("periodEnd", _date_arg("periodEnd", d), 0)

    def addMonths(d, n):  # noqa: N802
        """d plus n calendar months (Jan 31 + 1 -> Feb 28/29)."""
        value = _date_or_datetime_arg("addMonths", d)
        n = _int_arg("addMonths", "n", n)
        if isinstance(value, datetime):
            return _shift("addMonths", value, relativedelta(months=n))
        try:
            return add_months(value, n)
        except (OverflowError, ValueError):
            raise _out_of_range("addMonths") from None

    def addDays(d, n):  # noqa: N802
        """d plus n calendar days (holidays included)."""
        value = _date_or_datetime_arg("addDays", d)
        return _shift("addDays", value, timedelta(days=_int_arg("addDays", "n", n)))

    def today():
        """Today's date in Asia/Shanghai."""
        return local_today

    def now_():
        """The evaluation instant, aware, in Asia/Shanghai."""
        return local_now

    def date_(text):
        """Date from ISO text; a datetime text gives its Shanghai date."""
        return _date_arg("date", text)

    now_.__name__, date_.__name__ = "now", "date"
    return {
        "workingDays": workingDays,
        "addWorkingDays": addWorkingDays,
        "periodEnd": periodEnd,
        "addMonths": addMonths,
        "addDays": addDays,
        "today": today,
        "now": now_,
        "date": date_,
    }


#: Names :func:`deadline_functions` provides, for the deploy-time checker.
DEADLINE_FUNCTION_NAMES: frozenset[str] = frozenset(
    {"workingDays", "addWorkingDays", "periodEnd", "addMonths", "addDays", "today", "now", "date"}
)
