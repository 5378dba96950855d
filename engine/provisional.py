"""Provisional deadlines: a deadline counted in working days that reaches a year the working-day
calendar does not know (neither the chinesecalendar package nor the reform office's entries).
It was counted on the statutory holidays and weekends only (engine/statutory_holidays.py), without
the year's swapped working weekends and bridging days (调休), so it may fall on a bridging day or a
day or two early or late, and it will move
when the office enters that year's schedule (engine/recount.py). The inbox, the step's page, the
plan's page and the API mark it, so that the person who must meet it knows (issue: 2027 came with
no holidays, and a drafter saw only "due 2027-01-04", New Year's Day counted as a working day).

Whether a deadline counts working days is kept in its `due_basis` (engine/runtime.py); steps
opened before it was kept there are not marked. Years the package knows cost no query; the
entered days are read once per call, and only when a deadline reaches past the package.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from models import CalendarOverride

from . import clock
from .deadlines import last_local_day
from .workdays import package_knows

_ENTERED_DAYS = select(CalendarOverride.day)


def unknown_years(conn, years) -> set[int]:
    """Those of `years` the working-day calendar does not know: neither the package nor any
    entered day has them. The entered days are read only when a year is past the package."""
    beyond = {year for year in years if not package_knows(year)}
    if not beyond:
        return set()
    return beyond - {day.year for day in conn.execute(_ENTERED_DAYS).scalars()}


def counts_working_days(due_basis: str | None) -> bool:
    """Whether a step's deadline was counted in working days (its due_basis says so)."""
    if not due_basis:
        return False
    try:
        return bool(json.loads(due_basis).get("working_days"))
    except (ValueError, AttributeError):
        return False


def _years(task: dict) -> range:
    """`_years_counted` of a task dict (engine/queries.py task_dict: ISO instants)."""
    opened = task.get("created_at")
    return _years_counted(datetime.fromisoformat(opened) if opened else None, datetime.fromisoformat(task["due_at"]))


def _years_counted(opened: datetime | None, due: datetime) -> range:
    """The years a step's working days were counted over: from when it opened to its deadline's
    last day (31 December is stored as the next midnight, in the next year, but counts none of it)."""
    last = last_local_day(due)
    start = opened.astimezone(clock.TZ).year if opened is not None else last.year
    return range(min(start, last.year), last.year + 1)


def counted_over_unknown_year(calendar, due_basis: str | None, opened: datetime | None, due: datetime) -> bool:
    """Whether a deadline is provisional, for a reader that has the working-day calendar already
    (a mail about the step): counted in working days over a year `calendar` does not cover (so on
    the statutory holidays by law and weekends, without the year's 调休)."""
    if not counts_working_days(due_basis):
        return False
    return any(not calendar.covered(year) for year in _years_counted(opened, due))


def count_guessed(calendar, today, day) -> bool:
    """Whether "N working days left" from `today` to `day` counts over a year `calendar` does not
    cover: a guess too, whatever the deadline itself was counted in (a filing's calendar month
    into a 2027 nobody entered yet)."""
    first, last = sorted((today, day))
    return any(not calendar.covered(year) for year in range(first.year, last.year + 1))


def mark(conn, tasks: list[dict]) -> list[dict]:
    """Set `due_provisional` on each task dict (engine/queries.py task_dict): True when its
    deadline counts working days over a year the calendar does not know. Returns `tasks`."""
    counted = [task for task in tasks if task.get("due_at") and task.get("due_in_working_days")]
    unknown = unknown_years(conn, {year for task in counted for year in _years(task)})
    for task in tasks:
        task["due_provisional"] = False
    for task in counted:
        task["due_provisional"] = not unknown.isdisjoint(_years(task))
    return tasks
