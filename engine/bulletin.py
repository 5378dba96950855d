"""The reform office's quarterly bulletin (季通报, seed 001 二（二）): 市委改革办每季通报重点突破改革
项目、省级及以上重大改革试点和专项小组年度工作计划进展情况. Those are the plans in implementation
started with `quarterlyReporting` (implementation.bpmn): the lead unit's table for the quarter's last
month (报送月度进展) goes to its special group (审核季度进展), which approves it for the reform office or
returns it (按审核意见修改季度进展).

For a quarter, each such plan with its lead unit, that month's table as last filed or revised
(counts, progress, problems), when it was due and filed, how the review went (approved, awaiting
review, returned; how many times returned) and the plan's three-colour warning as it stood at the
quarter's end (engine/ledger.py). A plan whose table is missing past its due date, not yet
approved, or filed late stands out (`attention`) and comes first. With `everything`, the other
plans in implementation follow as a second part: the seed's bulletin names only the three kinds
above, but their quarter-end monthly table shows which of them has stopped reporting.

The values come from the `task_completed` audit events of those steps (the plan's variables keep
only the latest month). Read-only: one query each for the plans, their tasks, those events and the
names of users.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import Connection, or_, select

from models import ProcessDefinition, ProcessInstance, User

from . import clock
from .errors import Invalid
from .ledger import (LEAD_UNIT, MILESTONE_DONE, MILESTONE_DROPPED, RESPONSIBLE, completions, date_variable, days_late,
                     due_end, plan_row, plans_and_tasks)
from .queries import iso
from .runtime import OPEN_STATUSES
from .workdays import add_months

PROCESS = "implementation"
MONTHLY, REVIEW, REVISE = "Task_MonthlyReport", "Task_ReviewQuarter", "Task_ReviseQuarterReport"
QUARTERLY = "quarterlyReporting"
# how a plan's quarter table stands, the ones that need the reform office's attention first
STANDINGS = ("missing", "unreviewed", "late", "on_time", "due", "not_required", "cancelled")
ATTENTION = ("missing", "unreviewed", "late")
_NUMERALS = "一二三四"
_QUARTER = re.compile(r"^([0-9]{4})\s*(?:-?\s*[Qq]\s*([1-4])|年\s*第?\s*([1-4一二三四])\s*季度?)$")
YEARS = clock.YEARS


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def code(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        return f"{self.year}年第{_NUMERALS[self.number - 1]}季度"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_month(self) -> date:
        """The first day of the quarter's last month: the month whose table the special group reviews."""
        return date(self.year, 3 * self.number, 1)

    @property
    def last_day(self) -> date:
        return add_months(self.last_month, 1) - timedelta(days=1)


def parse_quarter(text: str) -> Quarter:
    """2026Q4, 2026-Q4, 2026q4, 2026年第四季度, 2026年第4季度, 2026年四季度; full-width digits and
    letters as a Chinese input method types them (２０２６Ｑ４) too."""
    found = _QUARTER.match(unicodedata.normalize("NFKC", text).strip())
    if found is None:
        raise Invalid(f"季度写作 2026Q4 或 2026年第四季度：{text} (a quarter is written 2026Q4)")
    year, number = int(found.group(1)), found.group(2) or found.group(3)
    if not YEARS[0] <= year <= YEARS[1]:
        raise Invalid(f"季度的年份须在 {YEARS[0]} 至 {YEARS[1]} 之间：{text} "
                      f"(the year must be from {YEARS[0]} to {YEARS[1]}, e.g. 2026Q4)")
    return Quarter(year, int(number) if number.isdigit() else _NUMERALS.index(number) + 1)


def last_ended(today: date) -> Quarter:
    """The latest quarter that has ended by `today`: the one a bulletin is written about."""
    current = (today.month - 1) // 3 + 1
    return Quarter(today.year, current - 1) if current > 1 else Quarter(today.year - 1, 4)


def bulletin(conn: Connection, now: datetime, quarter: Quarter, *, everything: bool = False,
             unit: str | None = None) -> dict:
    """The bulletin for `quarter` as of `now`: `plans` under quarterly reporting, then (with
    `everything`) `others` in implementation. `unit`: only plans whose lead unit contains it."""
    end = due_end(quarter.last_day)
    start = datetime.combine(quarter.first_day, time(), clock.TZ)
    # plans in implementation during the quarter: started before its end, not ended before its start
    in_quarter = (ProcessDefinition.key == PROCESS, ProcessInstance.started_at < end,
                  or_(ProcessInstance.ended_at.is_(None), ProcessInstance.ended_at >= start))
    plans, tasks = plans_and_tasks(conn, in_quarter)
    done = completions(conn, in_quarter, (MONTHLY, REVIEW, REVISE))
    names = dict(conn.execute(select(User.username, User.display_name)).all())
    parts: dict[str, list] = {"plans": [], "others": []}
    for plan in plans:
        variables = json.loads(plan.variables_json)
        if unit is not None and unit not in str(variables.get(LEAD_UNIT) or ""):
            continue
        begun = date_variable(variables.get("implementationStart"))
        if begun is None or begun > quarter.last_day:  # nothing to report for this quarter yet
            continue
        quarterly = variables.get(QUARTERLY) is True
        if not quarterly and not everything:
            continue
        row = _row(plan, variables, tasks.get(plan.id, []), done.get(plan.id, []), quarter, now, names)
        parts["plans" if quarterly else "others"].append(row)
    result = {"quarter": quarter.code, "label": quarter.label, "report_month": quarter.last_month.isoformat()[:7],
              "quarter_end": iso(end), "as_of": iso(now)}
    for part, rows in parts.items():
        if part == "others" and not everything:
            continue
        rows.sort(key=lambda r: (STANDINGS.index(r["standing"]), r["id"]))
        result[part] = rows
        result[f"{part}_summary" if part == "others" else "summary"] = summary(rows)
    return result


def summary(rows: list[dict]) -> dict:
    """How many plans stand each way, and how many need attention."""
    counts = {standing: sum(r["standing"] == standing for r in rows) for standing in STANDINGS}
    return {"plans": len(rows), "attention": sum(r["attention"] for r in rows), **counts}


def _row(plan, variables: dict, tasks: list, events: list, quarter: Quarter, now: datetime, names: dict) -> dict:
    month = quarter.last_month.isoformat()
    quarterly = variables.get(QUARTERLY) is True
    ours = [e for e in events if _values(e).get("reportMonth") == month]
    filed = next((e for e in ours if e.element_id == MONTHLY), None)
    tables = [e for e in ours if e.element_id in (MONTHLY, REVISE)]
    reviews = [e for e in ours if e.element_id == REVIEW]
    open_steps = {t.element_id: t for t in tasks if t.status in OPEN_STATUSES} \
        if variables.get("reportMonth") == month else {}
    by_id = {t.id: t for t in tasks}
    if filed is not None:
        due = by_id[filed.task_id].due_at
    elif MONTHLY in open_steps:
        due = open_steps[MONTHLY].due_at
    else:  # not opened yet (an earlier month still outstanding): its deadline as the diagram sets it
        due = due_end(add_months(quarter.last_month, 1) + timedelta(days=_report_due_day(variables) - 1))
    late = days_late(due, filed.occurred_at) if filed is not None and due is not None and filed.occurred_at > due else 0
    review = _review(reviews, open_steps, names) if quarterly else None
    standing = _standing(plan, variables, filed, due, late, review, quarter, now)
    return {"id": plan.id, "business_key": plan.business_key, "title": plan.title, "status": plan.status,
            "lead_unit": variables.get(LEAD_UNIT), "responsible_person": variables.get(RESPONSIBLE),
            "quarterly": quarterly, "report_month": month[:7], "standing": standing,
            "attention": standing in ATTENTION, "due_at": iso(due),
            "filed_at": iso(filed.occurred_at) if filed else None,
            "filed_by": _who(filed, names) if filed else None, "days_late": late,
            "table": _table(tables[-1]) if tables else None, "review": review,
            **_warning(plan, variables, tasks, min(due_end(quarter.last_day), now))}


def _standing(plan, variables: dict, filed, due: datetime | None, late: int, review: dict | None,
              quarter: Quarter, now: datetime) -> str:
    if filed is None:
        finished = date_variable(variables.get("measuresDoneOn"))
        if variables.get("allMeasuresDone") is True and finished is not None and finished < quarter.last_month:
            return "not_required"  # every measure done in an earlier month: reporting has ended
        if plan.status == "cancelled":
            return "cancelled"
        return "missing" if due is not None and due <= now else "due"
    if review is not None and review["state"] != "approved":
        return "unreviewed"
    return "late" if late else "on_time"


def _review(reviews: list, open_steps: dict, names: dict) -> dict:
    """The special group's review: approved, awaiting review or returned to the lead unit (or
    not started: the table is not filed yet), how many times returned, and the last decision."""
    last = reviews[-1] if reviews else None
    if last is not None and _values(last).get("quarterReviewDecision") == "approve":
        state = "approved"
    elif REVISE in open_steps:
        state = "returned"
    elif REVIEW in open_steps:
        state = "awaiting"
    else:
        state = "not_started"
    values = _values(last) if last is not None else {}
    return {"state": state, "returns": sum(_values(r).get("quarterReviewDecision") == "return" for r in reviews),
            "reviewed_at": iso(last.occurred_at) if last else None, "reviewed_by": _who(last, names) if last else None,
            "reviewer_unit": json.loads(last.payload).get("unit") if last else None,
            "decision": values.get("quarterReviewDecision"), "opinion": values.get("quarterReviewOpinion")}


def _table(event) -> dict:
    """The month's table as the lead unit last filed or revised it."""
    values = _values(event)
    return {"measures": values.get("measureCount"), "done": values.get("measuresDone"),
            "started": values.get("measuresStarted"), "not_started": values.get("measuresNotStarted"),
            "progress": values.get("progressSummary"), "problems": values.get("problemsMet"),
            "revised": event.element_id == REVISE}


def _warning(plan, variables: dict, tasks: list, at: datetime) -> dict:
    """The ledger's three-colour warning as the plan stood at `at`: its tasks as they were then
    (one completed since was still open), a milestone reached since not reached yet."""
    then = [SimpleNamespace(**{**t._asdict(), "status": "open", "completed_at": None})
            if t.completed_at is not None and t.completed_at > at else t
            for t in tasks if t.created_at <= at]
    known = dict(variables)
    for prop in (MILESTONE_DONE, MILESTONE_DROPPED):
        name = variables.get(prop)
        reached = date_variable(variables.get(name)) if isinstance(name, str) else None
        if reached is not None and reached > at.astimezone(clock.TZ).date():
            known[name] = None
    ended = plan.ended_at if plan.ended_at is not None and plan.ended_at <= at else None
    row = plan_row(SimpleNamespace(**{**plan._asdict(), "ended_at": ended}), known, then, at)
    return {"colour": row["colour"], "missed": row["missed"]}


def _values(event) -> dict:
    return json.loads(event.payload).get("new") or {}


def _who(event, names: dict) -> str:
    return names.get(event.actor, event.actor)


def _report_due_day(variables: dict) -> int:
    day = variables.get("reportDueDay")
    return day if isinstance(day, int) and not isinstance(day, bool) else 10

