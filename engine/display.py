"""Instants as a person here reads them, for the command line and the files it writes: Beijing
time to the minute, and a deadline as the day it runs to. (JSON keeps the exact instant.)"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from . import clock
from .deadlines import last_local_day


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def is_iso_day(value) -> bool:
    """Whether a value is written as a date (2026-10-27): the trail keeps no field types."""
    return isinstance(value, str) and _ISO_DAY.fullmatch(value) is not None


def day(value: str | date, chinese: bool = False) -> str:
    """A date: ISO (2026-12-05), or as a Chinese page writes it (2026年12月5日)."""
    d = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{d.year}年{d.month}月{d.day}日" if chinese else d.isoformat()


def day_or_as_is(value, chinese: bool = False) -> str:
    """`day`, or a value that is not a date as it is (a form's text from before its dates were
    checked): a page or a line that shows it must not break on it."""
    try:
        return day(value, chinese)
    except (TypeError, ValueError):
        return str(value)


def minute(value: str, chinese: bool = False) -> str:
    """An ISO instant in Beijing time, to the minute (2026-12-05 16:50, 2026年12月5日 16:50)."""
    at = datetime.fromisoformat(value).astimezone(clock.TZ)
    return f"{day(at.date(), chinese)} {at:%H:%M}"


def deadline(value: str, chinese: bool = False) -> str:
    """A deadline written as a date runs to the end of that day (it is stored as the next local
    midnight): shown as the date itself, as the analyst wrote it; any other time to the minute."""
    at = datetime.fromisoformat(value).astimezone(clock.TZ)
    if at.time() == time(0):
        return day(last_local_day(at), chinese)
    return minute(value, chinese)


_QUARTERS_ZH = "一二三四"


def quarter(text: str, chinese: bool = False) -> str:
    """A quarter as engine/bulletin.py writes it (2026Q4), or as a Chinese page does (2026年第四季度)."""
    year, _, q = str(text).partition("Q")
    if not chinese or not (year.isdigit() and q in ("1", "2", "3", "4")):  # what someone typed: as typed
        return str(text)
    return f"{year}年第{_QUARTERS_ZH[int(q) - 1]}季度"


def step(name: str, subject: str | None) -> str:
    """A task's name with the instance it belongs to in a multi-instance activity, so that ten
    bodies' identical steps tell apart: 编审单位报告（市财政局）."""
    return f"{name}（{subject}）" if subject else name


def entered(value: dict) -> str:
    """A value a person entered on a form (engine/history.py submitted_values): a choice with its
    name, yes or no for a tick box."""
    v = value["value"]
    if value["option"]:
        return f"{v}（{value['option']}）"
    if isinstance(v, bool):
        return "是" if v else "否"
    return str(v)


def then_and_now(then: str, now: str | None, word: str = "现名") -> str:
    """A name (or, word 现属, a unit) as it was when someone acted, and today's where it differs:
    张伟（现名 张维）, 市财政局（现属 市发改委） (QA auditor finding 13)."""
    return f"{then}（{word} {now}）" if now and now != then else then


SHOWN_CHARACTERS = 300  # as long as a deployed name may be (diagram_limits.NAME_LENGTH)


def shortened(text, chinese: bool = False, size: int = SHOWN_CHARACTERS) -> str:
    """A diagram's name or label as a page shows it: a longer one (what an upload holds is anyone's
    input, a 4 MB process name) cut to its first `size` characters, with its whole length said."""
    text = "" if text is None else str(text)
    if len(text) <= size:
        return text
    return text[:size] + (f"…（共 {len(text):,} 字）" if chinese else f"… ({len(text):,} characters)")


def counted(n: int, noun: str) -> str:
    """An English count in the brackets: 1 plan, 2 plans."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def lateness(late: timedelta) -> tuple[str, str]:
    """How late, in the largest whole unit (a day, an hour, a minute): ("3 天", "3 days"); for
    the trail's late timers and what `timers run` says it fired."""
    for size, zh, en in ((timedelta(days=1), "天", "day"), (timedelta(hours=1), "小时", "hour")):
        if late >= size:
            n = late // size
            return f"{n} {zh}", counted(n, en)
    n = late // timedelta(minutes=1)
    return f"{n} 分钟", counted(n, "minute")


def file_size(size: int) -> str:
    """An attached file's size: 812 B, 34.5 KB, 2.1 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
