"""The reform office's supervision and rectification ledger (督察台账 / 整改台账, seed 001 三（一）:
市委改革办每年制定重大改革项目督察工作计划 … every reform supervised at least once; DOMAIN.md:
findings go on a rectification ledger closed item by item, 办结一件销号一件).

For each plan in implementation (implementation.bpmn): its lead unit; its supervision (开展督察), due
`supervisionMonths` after the implementation started, done (date, method, findings) or not yet,
overdue once its due date has passed; the rectification notice that followed (下发整改意见书: number,
problem list, deadline, served date), as a re-review changed it, and where it stands — rectifying,
overdue (not reported by its deadline), under re-review, reported and awaiting re-inspection,
re-inspection failed and further rectification ordered (its new deadline), closed (销号) or withdrawn
on re-review — and the leader interview recorded after a failed re-inspection. A plan not
supervised by its due date, and a rectification past its deadline, stand out (`attention`) and
come first.

The values come from the `task_completed` audit events of those steps (several are `keep=false`,
so the plan's variables do not hold them) and the plan's open tasks. Read-only: one query each for
the plans, their tasks, those events and the names of users.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time

from sqlalchemy import Connection, or_, select

from models import ProcessDefinition, ProcessInstance, User

from . import clock
from .errors import Invalid
from .ledger import (LEAD_UNIT, RESPONSIBLE, completions, date_variable, days_late, due_end, last_day,
                     plans_and_tasks)
from .queries import iso
from .runtime import OPEN_STATUSES
from .workdays import add_months

PROCESS = "implementation"
SUPERVISE, NOTICE, RECTIFY = "Task_Supervise", "Task_IssueRectificationNotice", "Task_Rectify"
REQUEST, DECIDE, REINSPECT = "Task_RequestReReview", "Task_DecideReReview", "Task_ReInspect"
FURTHER, INTERVIEW = "Task_OrderFurtherRectification", "Task_RecordInterview"
STEPS = (SUPERVISE, NOTICE, RECTIFY, REQUEST, DECIDE, REINSPECT, FURTHER, INTERVIEW)
# how a plan's supervision stands, and its notice, the ones needing attention first
SUPERVISIONS = ("overdue", "due", "done", "cancelled")
NOTICES = ("overdue", "re_review", "further", "rectifying", "reported", "closed", "withdrawn", "cancelled")
OPEN_NOTICES = ("overdue", "re_review", "further", "rectifying", "reported")
YEARS = clock.YEARS


def supervision(conn: Connection, now: datetime, *, year: int | None = None, unit: str | None = None) -> dict:
    """The ledger as of `now`: the plans in implementation now or, with `year`, at any time in
    that year (started by its end, not ended before it began). `unit`: only plans whose lead unit
    contains it."""
    conditions = [ProcessDefinition.key == PROCESS]
    if year is None:
        conditions = now_conditions()
    else:
        if not YEARS[0] <= year <= YEARS[1]:
            raise Invalid(f"年度须在 {YEARS[0]} 至 {YEARS[1]} 之间：{year} "
                          f"(the year must be from {YEARS[0]} to {YEARS[1]}, e.g. 2027)")
        conditions += [ProcessInstance.started_at < due_end(date(year, 12, 31)),
                       or_(ProcessInstance.ended_at.is_(None),
                           ProcessInstance.ended_at >= datetime.combine(date(year, 1, 1), time(), clock.TZ))]
    plans, tasks = plans_and_tasks(conn, conditions, telling=(SUPERVISE,))
    done = completions(conn, conditions, STEPS)
    names = dict(conn.execute(select(User.username, User.display_name)).all())
    return {"year": year, "as_of": iso(now), **rows_of(plans, tasks, done, now, names, year=year, unit=unit)}


def now_conditions() -> list:
    """The plans in implementation now, as supervision() without a year reads them."""
    return [ProcessDefinition.key == PROCESS, ProcessInstance.status == "running"]


def is_now(plan) -> bool:
    """now_conditions, of a plan read already (plans_and_tasks)."""
    return plan.key == PROCESS and plan.status == "running"


def rows_of(plans: list, tasks: dict[int, list], done: dict[int, list], now: datetime, names: dict, *,
            year: int | None = None, unit: str | None = None) -> dict:
    """The ledger's plans (its rows in order) and summary, of plans read by plans_and_tasks with at
    least their open steps and every supervision step (telling=(SUPERVISE,)), and their
    completions."""
    rows = []
    for plan in plans:
        variables = json.loads(plan.variables_json)
        if unit is not None and unit not in str(variables.get(LEAD_UNIT) or ""):
            continue
        begun = date_variable(variables.get("implementationStart"))
        if year is not None and (begun is None or begun.year > year):
            continue
        rows.append(_row(plan, variables, tasks.get(plan.id, []), done.get(plan.id, []), now, names))
    rows.sort(key=lambda r: (not r["attention"], SUPERVISIONS.index(r["supervision"]["state"]),
                             NOTICES.index(r["notice"]["state"]) if r["notice"] else len(NOTICES), r["id"]))
    return {"plans": rows, "summary": summary(rows)}


def summary(rows: list[dict]) -> dict:
    """How many plans were supervised, not yet (overdue), and how the notices stand."""
    states = [r["supervision"]["state"] for r in rows]
    notices = [r["notice"]["state"] for r in rows if r["notice"]]
    return {"plans": len(rows), "attention": sum(r["attention"] for r in rows),
            "supervised": states.count("done"), "not_supervised": states.count("overdue") + states.count("due"),
            "supervision_overdue": states.count("overdue"), "notices": len(notices),
            "notices_open": sum(s in OPEN_NOTICES for s in notices), "rectification_overdue": notices.count("overdue"),
            "notices_closed": notices.count("closed"), "notices_withdrawn": notices.count("withdrawn"),
            "interviews": sum(bool(r["notice"] and r["notice"]["interview"] and r["notice"]["interview"]["recorded"])
                              for r in rows)}


def _row(plan, variables: dict, tasks: list, events: list, now: datetime, names: dict) -> dict:
    open_steps = {t.element_id: t for t in tasks if t.status in OPEN_STATUSES}
    running = plan.status == "running"
    watched = _supervision(variables, tasks, events, open_steps, running, now, names)
    notice = _notice(events, open_steps, running, now, names)
    return {"id": plan.id, "business_key": plan.business_key, "title": plan.title, "status": plan.status,
            "lead_unit": variables.get(LEAD_UNIT), "responsible_person": variables.get(RESPONSIBLE),
            "implementation_start": variables.get("implementationStart"), "supervision": watched, "notice": notice,
            "attention": watched["state"] == "overdue" or (notice is not None and notice["state"] == "overdue")}


def _supervision(variables: dict, tasks: list, events: list, open_steps: dict, running: bool, now: datetime,
                 names: dict) -> dict:
    """Due when the diagram's timer says (the task's due date; before the task opens, the same
    rule computed); done, overdue, not due yet, or not done in a plan that was cancelled."""
    task = next((t for t in tasks if t.element_id == SUPERVISE), None)
    due = task.due_at if task is not None else _due(variables)
    event = next((e for e in events if e.element_id == SUPERVISE), None)
    if event is not None:
        state = "done"
    elif not running:
        state = "cancelled"
    else:
        state = "overdue" if due is not None and due <= now else "due"
    values = _values(event) if event else {}
    late = days_late(due, event.occurred_at if event else now) if due is not None and state in ("done", "overdue") else 0
    return {"state": state, "due_at": iso(due), "days_late": late, "date": values.get("supervisionDate"),
            "method": values.get("supervisionMethod"), "findings": values.get("supervisionFindings"),
            "problems_found": values.get("problemsFound") if event else None,
            "recorded_at": iso(event.occurred_at) if event else None, "recorded_by": _who(event, names)}


def _notice(events: list, open_steps: dict, running: bool, now: datetime, names: dict) -> dict | None:
    """The rectification notice, read step by step in the order it went: each re-review change,
    further rectification and interview updates what the lead unit works to."""
    issued = next((e for e in events if e.element_id == NOTICE), None)
    if issued is None:
        return None
    values = _values(issued)
    notice = {"number": values.get("rectificationNoticeNumber"), "problem_list": values.get("problemList"),
              "deadline": values.get("rectificationDeadline"), "original_deadline": values.get("rectificationDeadline"),
              "served_on": values.get("noticeDate"), "issued_by": _who(issued, names), "changed": False,
              "re_review": None, "reported_at": None, "report": None, "reinspection": None, "further_orders": 0,
              "interview": None, "closed_on": None, "withdrawn_on": None}
    for event in events:
        if event.seq < issued.seq:
            continue
        _follow(notice, event, _values(event), names)
    rectifying = open_steps.get(RECTIFY)
    if rectifying is not None and rectifying.due_at is not None:  # the open round's deadline as the engine keeps it
        notice["deadline"] = last_day(rectifying.due_at).isoformat()
    if INTERVIEW in open_steps and notice["interview"] is None:
        notice["interview"] = {"recorded": False, "date": None, "interviewee": None, "record": None}
    state = _state(notice, open_steps, running, now)
    overdue = state == "overdue"
    return {**notice, "state": state, "days_overdue": days_late(rectifying.due_at, now) if overdue else 0}


def _follow(notice: dict, event, values: dict, names: dict) -> None:
    step = event.element_id
    if step == REQUEST and values.get("reReviewChoice") == "request":
        notice["re_review"] = {"requested_at": iso(event.occurred_at), "reasons": values.get("reReviewReasons"),
                               "decision": None, "decided_at": None, "decision_reasons": None}
    elif step == DECIDE and notice["re_review"] is not None:
        decision = values.get("reReviewDecision")
        changed = decision == "changed" and (values.get("revisedProblemList") or values.get("revisedRectificationDeadline"))
        notice["re_review"].update(decision=decision, decided_at=iso(event.occurred_at),
                                   decision_reasons=values.get("reReviewDecisionReasons"))
        if changed:  # as Task_ApplyReReviewChange does: a blank part stays as it was
            notice["problem_list"] = values.get("revisedProblemList") or notice["problem_list"]
            notice["deadline"] = values.get("revisedRectificationDeadline") or notice["deadline"]
            notice["changed"] = True
        elif decision == "withdrawn":
            notice["withdrawn_on"] = _day_of(event.occurred_at)
    elif step == RECTIFY:
        notice["reported_at"], notice["report"] = iso(event.occurred_at), values.get("rectificationReport")
    elif step == REINSPECT:
        result = values.get("reinspectionResult")
        notice["reinspection"] = {"result": result, "opinion": values.get("reinspectionOpinion"),
                                  "at": iso(event.occurred_at), "by": _who(event, names)}
        if result == "passed":
            notice["closed_on"] = _day_of(event.occurred_at)
    elif step == FURTHER:
        notice["further_orders"] += 1
        notice["deadline"] = values.get("newRectificationDeadline") or notice["deadline"]
    elif step == INTERVIEW:
        notice["interview"] = {"recorded": True, "date": values.get("interviewDate"),
                               "interviewee": values.get("interviewee"), "record": values.get("interviewRecord")}


def _state(notice: dict, open_steps: dict, running: bool, now: datetime) -> str:
    if notice["withdrawn_on"]:
        return "withdrawn"
    if notice["closed_on"]:
        return "closed"
    if not running:
        return "cancelled"
    rectifying = open_steps.get(RECTIFY)
    if rectifying is not None and rectifying.due_at is not None and rectifying.due_at <= now:
        return "overdue"
    if DECIDE in open_steps:
        return "re_review"
    if FURTHER in open_steps or INTERVIEW in open_steps or (rectifying is not None and notice["further_orders"]):
        return "further"
    if rectifying is not None:
        return "rectifying"
    return "reported"  # reported: re-inspection open, or waiting for the period to ask for a re-review


def _due(variables: dict) -> datetime | None:
    """`addMonths(implementationStart, supervisionMonths)`, the diagram's due date, before the task opens."""
    begun, months = date_variable(variables.get("implementationStart")), variables.get("supervisionMonths")
    try:
        months = int(months)
    except (TypeError, ValueError):
        return None
    return due_end(add_months(begun, months)) if begun is not None else None


def _values(event) -> dict:
    return json.loads(event.payload).get("new") or {}


def _who(event, names: dict) -> str | None:
    return names.get(event.actor, event.actor) if event is not None else None


def _day_of(at: datetime) -> str:
    """The Beijing date of an instant."""
    return at.astimezone(clock.TZ).date().isoformat()

