"""Provisional deadlines: a deadline counted in working days that reaches a year the working-day
calendar does not know (neither the chinesecalendar package nor the reform office's entries).
It was counted on plain weekends, so it may fall on a holiday or a week early, and it will move
when the office enters that year's schedule (engine/recount.py). The inbox, the step's page, the
plan's page and the API mark it, so that the person who must meet it knows (issue: 2027 came with
no holidays, and a drafter saw only "due 2027-01-04", New Year's Day counted as a working day).

Whether a deadline counts working days is kept in its `due_basis` (engine/runtime.py); steps
opened before it was kept there are not marked. Years the package knows cost no query; the
entered days are read once per call, and only when a deadline reaches past the package.
"""
from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import select

from models import CalendarOverride

from . import clock
from .workdays import _package_says

_ENTERED_DAYS = select(CalendarOverride.day)


def counts_working_days(due_basis: str | None) -> bool:
    """Whether a step's deadline was counted in working days (its due_basis says so)."""
    if not due_basis:
        return False
    try:
        return bool(json.loads(due_basis).get("working_days"))
    except (ValueError, AttributeError):
        return False


def _years(task: dict) -> range:
    """The years a step's working days were counted over: from when it opened to its deadline."""
    due = datetime.fromisoformat(task["due_at"]).astimezone(clock.TZ).date()
    opened = task.get("created_at")
    start = datetime.fromisoformat(opened).astimezone(clock.TZ).year if opened else due.year
    return range(min(start, due.year), due.year + 1)


def mark(conn, tasks: list[dict]) -> list[dict]:
    """Set `due_provisional` on each task dict (engine/queries.py task_dict): True when its
    deadline counts working days over a year the calendar does not know. Returns `tasks`."""
    unknown: dict[int, bool] = {}
    entered: set[int] | None = None
    for task in tasks:
        provisional = False
        if task.get("due_at") and task.get("due_in_working_days"):
            for year in _years(task):
                if year not in unknown:
                    if _package_says(date(year, 1, 1)) is not None:
                        unknown[year] = False
                    else:
                        if entered is None:
                            entered = {day.year for day in conn.execute(_ENTERED_DAYS).scalars()}
                        unknown[year] = year not in entered
                if unknown[year]:
                    provisional = True
                    break
        task["due_provisional"] = provisional
    return tasks

