"""Instants as a person here reads them, for the command line and the files it writes: Beijing
time to the minute, and a deadline as the day it runs to. (JSON keeps the exact instant.)"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from . import clock


def minute(value: str) -> str:
    """An ISO instant in Beijing time, to the minute."""
    return datetime.fromisoformat(value).astimezone(clock.TZ).strftime("%Y-%m-%d %H:%M")


def deadline(value: str) -> str:
    """A deadline written as a date runs to the end of that day (it is stored as the next local
    midnight): shown as the date itself, as the analyst wrote it; any other time to the minute."""
    at = datetime.fromisoformat(value).astimezone(clock.TZ)
    if at.time() == time(0):
        return (at - timedelta(days=1)).strftime("%Y-%m-%d")
    return minute(value)


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


def counted(n: int, noun: str) -> str:
    """An English count in the brackets: 1 plan, 2 plans."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def file_size(size: int) -> str:
    """An attached file's size: 812 B, 34.5 KB, 2.1 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
