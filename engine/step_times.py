"""How long each step takes (办理时效统计): where plans stall, from the inbox rows.

For each step of each procedure (the plan's process key, and a user task's element id in the
plan's diagram or in one it calls or embeds — `part`, the called process's key or the embedded
subprocess's id, None in the plan's own — with the names the latest row of it says), over the
steps completed in a period (by the Beijing date they were completed on; by default the current
calendar year):

- how many were completed, and the median, 90th percentile and longest time each took, from
  the step's opening (its inbox row made) to its completion, in Chinese **working days**
  (engine/workdays.py, the calendar's entered days included) and in calendar days. Both count
  Beijing dates as a deadline does: a step opened on Tuesday and completed on Thursday took two
  days, one completed on the day it opened none; working days are those in (opened, completed],
  so a step opened before National Day and completed after it counts only the working days
  between (`WorkCalendar.working_days_between`);
- how many of them were completed after their due date (as the ledger counts a late step:
  completed after the instant it was due; a step whose deadline a variable moved later, 限期报送,
  by its first deadline, engine/judged_due.py);
- how many of the step are open now, in any plan, and how many of those are past their due date.

Working days in a year the calendar does not know (no holidays entered, engine/workdays.py) are
counted on the statutory holidays by law and weekends (engine/statutory_holidays.py); the years so counted are listed (`calendar_gaps`) so that the page and
the command line say the figures are provisional.

The same per lead unit (the plan's `leadUnit` variable, as the ledger names it): who is late.

The 90th percentile is the nearest-rank one: the smallest time that nine in ten of the steps
took no longer than (one the office can find among the steps), the median the middle one (or
the mean of the two middle ones). Withdrawn steps (cancelled: a plan stopped, an interrupting
timer) are left out: they were not done. A step opened again (a plan sent back) counts each
time it was done. The slowest step comes first: by median working days, then calendar days,
then the 90th percentile; steps open now with none completed in the period last.

Read-only: one query of the inbox rows (completed in the period or open now) with their plans'
processes, one of those plans' lead units and one of the calendar's entered days; the statistics
are plain Python.
"""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from statistics import median

from sqlalchemy import Connection, and_, or_, select

from models import HumanTask, ProcessDefinition, ProcessInstance

from . import clock
from .errors import Invalid
from .judged_due import judged_due
from .ledger import LEAD_UNIT
from .runtime import OPEN_STATUSES, is_open
from .sql_json import json_text
from .workdays import WorkCalendar, as_local_date


def period(today: date, since: date | str | None = None, until: date | str | None = None) -> tuple[date, date]:
    """The period asked for, both days included: by default the calendar year of `today`; one
    end given, the other the end of its year. Text is ISO (2026-10-01)."""
    since, until = _day(since, "since"), _day(until, "until")
    if since is None:
        since = date((until or today).year, 1, 1)
    if until is None:
        until = date(since.year, 12, 31)
    if until < since:
        raise Invalid(f"统计期间的结束日期 {until} 早于开始日期 {since} (the period ends on {until}, before it starts on {since})")
    return since, until


def _day(value, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid(f"日期须为 YYYY-MM-DD 格式：{value} ({what} must be a date, YYYY-MM-DD)") from None
    low, high = clock.YEARS  # 0001-01-01 or 9999-12-31 overflowed when made an instant: a 500
    if not low <= day.year <= high:
        raise Invalid(f"日期须在 {low} 至 {high} 年之间：{value} ({what} must be a date from {low} to {high})")
    return day


def step_times(conn: Connection, now: datetime, calendar: WorkCalendar, since: date, until: date,
               process: str | None = None) -> dict:
    """The statistics of the steps completed from `since` to `until` (Beijing dates, both
    included), and of the steps open at `now`; `process`: only the steps of the plans of this process key
    (as the ledger filters: reform_plan's plans, with the legality review they call)."""
    start = datetime.combine(since, time(), clock.TZ)
    end = datetime.combine(until + timedelta(days=1), time(), clock.TZ)
    done_in_period = and_(HumanTask.status == "completed", HumanTask.completed_at >= start,
                          HumanTask.completed_at < end)
    conditions = [or_(done_in_period, is_open(HumanTask.status))]
    if process is not None:
        conditions.append(ProcessDefinition.key == process)
    query = (select(ProcessDefinition.key, ProcessDefinition.name.label("process_name"), HumanTask.instance_id,
                    HumanTask.process_key, HumanTask.element_id, HumanTask.name, HumanTask.status,
                    HumanTask.created_at, HumanTask.completed_at, HumanTask.due_at, HumanTask.first_due_at)
             .join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
             .join(ProcessDefinition, ProcessInstance.definition_id == ProcessDefinition.id)
             .where(*conditions).order_by(HumanTask.id))
    # the lead unit of each plan those rows belong to, read once a plan (not once a row: on
    # PostgreSQL each read casts the plan's variables to jsonb)
    lead_units = dict(conn.execute(
        select(ProcessInstance.id, json_text(ProcessInstance.variables_json, LEAD_UNIT))
        .where(ProcessInstance.id.in_(query.with_only_columns(HumanTask.instance_id).order_by(None)))).all())
    steps: dict[tuple[str, str], dict] = {}
    units: dict[str, dict] = {}
    for task in conn.execute(query):
        lead_unit = lead_units.get(task.instance_id)
        unit = units.setdefault(lead_unit or "", {"lead_unit": lead_unit, "tasks": [], "open": 0, "open_overdue": 0})
        # one step of the plan's process by its element id, wherever it is drawn: a called process
        # deployed again may have moved it into an embedded subprocess (filing's 报送备案), and its
        # plans before and after are the same step (an id is unique in a diagram and in the library)
        entry = steps.setdefault((task.key, task.element_id),
                                 {"process_key": task.key, "element_id": task.element_id,
                                  "tasks": [], "open": 0, "open_overdue": 0})
        # the latest row's names and place (task.process_key: the diagram, called or embedded, it sits
        # in): a diagram deployed again may rename its process or step, or move it
        entry["process_name"], entry["name"] = task.process_name, task.name
        entry["part"] = task.process_key if task.process_key != task.key else None
        # judged as the ledger judges it: by its first deadline when a later one was ordered (限期报送)
        due = judged_due(task.first_due_at, task.due_at)
        if task.status in OPEN_STATUSES:
            overdue = due is not None and due <= now
            entry["open"] += 1
            entry["open_overdue"] += overdue
            unit["open"] += 1
            unit["open_overdue"] += overdue
        else:  # its Beijing dates, once, and whether it was late
            done = (as_local_date(task.created_at), as_local_date(task.completed_at),
                    due is not None and task.completed_at > due)
            entry["tasks"].append(done)
            unit["tasks"].append(done)
    days = _WorkingDays(calendar, [t for e in steps.values() for t in e["tasks"]])
    rows = [_row(entry, days) for entry in steps.values()]
    rows.sort(key=lambda r: (r["completed"] == 0, -(r["median_working_days"] or 0), -(r["median_days"] or 0),
                             -(r["p90_working_days"] or 0), r["process_key"], r["part"] or "", r["element_id"]))
    slowest = max((r["median_working_days"] or 0 for r in rows), default=0)
    for r in rows:  # the page's bar: the step's median against the slowest one's
        r["share"] = round(100 * (r["median_working_days"] or 0) / slowest) if slowest else 0
    return {"since": since.isoformat(), "until": until.isoformat(), "process": process,
            "at": now.isoformat(), "steps": rows, "units": _units(units, days),
            "completed": sum(r["completed"] for r in rows), "late": sum(r["late"] for r in rows),
            "open": sum(r["open"] for r in rows), "open_overdue": sum(r["open_overdue"] for r in rows),
            # the years the steps' working days ran through that nobody entered holidays for: counted
            # on the statutory holidays and weekends (no 调休), they change once the year is entered
            "calendar_gaps": sorted({warning.year for warning in calendar.warnings})}


def _row(entry: dict, days: "_WorkingDays") -> dict:
    tasks = entry["tasks"]
    working, late = _done_figures(tasks, days)
    calendar = sorted((done - opened).days for opened, done, _late in tasks)
    return {"process_key": entry["process_key"], "process_name": entry["process_name"], "part": entry["part"],
            "element_id": entry["element_id"], "name": entry["name"], "completed": len(tasks),
            "median_working_days": _median(working), "p90_working_days": percentile(working, 90),
            "max_working_days": working[-1] if working else None,
            "median_days": _median(calendar), "p90_days": percentile(calendar, 90),
            "max_days": calendar[-1] if calendar else None,
            "late": late, "open": entry["open"], "open_overdue": entry["open_overdue"]}


def _units(units: dict[str, dict], days: "_WorkingDays") -> list[dict]:
    """Per lead unit (the plan's `leadUnit`, as the ledger's): the steps of its plans completed in
    the period, their median working days and how many were late, and its open and overdue ones.
    Most overdue now first, then most late, then by name; plans without a lead unit last."""
    out = []
    for unit in units.values():
        working, late = _done_figures(unit["tasks"], days)
        out.append({"lead_unit": unit["lead_unit"], "completed": len(working), "median_working_days": _median(working),
                    "late": late, "open": unit["open"], "open_overdue": unit["open_overdue"]})
    return sorted(out, key=lambda u: (u["lead_unit"] is None, -u["open_overdue"], -u["late"], u["lead_unit"] or ""))


def _done_figures(tasks: list[tuple[date, date, bool]], days: "_WorkingDays") -> tuple[list[int], int]:
    """Of completed steps (opened, completed, late): the working days each took, sorted, and how
    many were late."""
    return (sorted(days.between(opened, done) for opened, done, _late in tasks),
            sum(late for _opened, _done, late in tasks))


def step_id(row: dict) -> str:
    """Where a step is drawn, as an analyst finds it in Camunda Modeler: legality_review/Task_CheckMaterials
    for a step of a called process or an embedded subprocess, Task_DraftPlan for one of the plan's own."""
    return f"{row['part']}/{row['element_id']}" if row["part"] else row["element_id"]


def _median(values: list[int]) -> float | int | None:
    if not values:
        return None
    middle = median(values)
    return int(middle) if middle == int(middle) else middle


def percentile(ordered: list[int], p: int) -> int | None:
    """The nearest-rank percentile of sorted values: the smallest value that p in a hundred of
    them do not exceed. None for no values."""
    if not ordered:
        return None
    return ordered[max(math.ceil(p * len(ordered) / 100), 1) - 1]


class _WorkingDays:
    """Working days between two Beijing dates, from one running count over the days the steps
    span: each day is asked of the calendar once, not once per step."""

    def __init__(self, calendar: WorkCalendar, tasks: list[tuple[date, date, bool]]):
        self.first = min((opened for opened, _done, _late in tasks), default=None)
        self.count: list[int] = []  # working days in (first, first + i]
        if self.first is None:
            return
        last = max(done for _opened, done, _late in tasks)
        total = 0
        for i in range((last - self.first).days + 1):
            total += i > 0 and calendar.is_working_day(self.first + timedelta(days=i))
            self.count.append(total)

    def between(self, start: date, end: date) -> int:
        a, b = (start - self.first).days, (end - self.first).days
        return self.count[b] - self.count[a] if b >= a else 0
