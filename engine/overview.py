"""工作台, the reform office's overview: how this year stands, on one page, as of `now`.

Everything comes from what the other reports already compute, not counted again here:

- the year's ledger (engine/ledger.py, this year Beijing time): how many plans are red, yellow
  and green, and how many were carried over; its rows' current steps are every open task of
  every plan that has one (a plan still open is on this year's ledger);
- from those current steps: the ones overdue now (their deadline passed, as the inbox's 只看已逾期
  says; a step whose deadline a variable moved later, 限期报送, by its first deadline as the
  ledger judges it, engine/judged_due.py, the ordered one beside it) and the ones due within the next `SOON` working days (engine/workdays.py
  `add_working_days`: the deadline's Beijing date no later than that many working days after
  today); the filing steps (备案, `Task_FileDocument` of bpmn/filing.bpmn) among them, overdue or
  due soon by the same measure, so that the figure and the inbox's list it opens agree;
- the units with the most overdue steps (an open task past its deadline), top `TOP_UNITS`: a
  plan's step counts against its lead unit, whoever holds it; in a round of reports
  (work_report.bpmn), a body's own report (or its revision) counts against that body, not the
  reform office that leads the round (`owed_by`);
- how many open tasks the asking office member may claim (engine/queries.py `count_tasks`, the
  inbox's 可认领 list);
- the supervision ledger's summary (engine/supervision.py) of the plans in implementation now:
  rectifications open and overdue, supervisions overdue;
- the years deadlines reach that the working-day calendar does not know (no holidays entered):
  this year, the year `CALENDAR_LOOKAHEAD` days on, and the year of every open step's deadline
  counted in working days, each with how many such steps are due in it. Working days there count
  the statutory holidays and weekends only, so the office is told before a deadline computed
  across the Spring Festival's bridging days comes out short;
- `timers_behind`: the oldest due time of a running plan's timer not fired within
  engine/timer_lag.py's grace, or None: the timer worker seems stopped since then.

Read-only: the plans of both ledgers and their steps that tell (open, late, the filing and
supervision steps) read once for both, the users once, the supervision steps' completions, and
the inbox's one SELECT of counts.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select
from sqlalchemy.orm import Session

from models import Unit, User

from . import clock, judged_due, reporting_bodies, supervision, timer_lag
from .calendar_year import missing_in_reach
from .deadlines import end_of_local_day
from .ledger import (COLOURS, completions, in_year, last_day, mark_provisional, names_of, plans_and_tasks, rows_of,
                     year_conditions)
from .queries import count_tasks, iso
from .runtime import OPEN_STATUSES, SUBJECT_LENGTH, calendar_of
from .workdays import WorkCalendar

SOON = 5  # working days: a deadline within them is due soon
FILING_STEP = "Task_FileDocument"
TOP_UNITS = 10
LISTED = 20  # overdue and due-soon steps listed by name (the counts are of all)


def soon_by(conn: Connection, now: datetime, calendar: WorkCalendar | None = None) -> datetime:
    """The instant by which a deadline is due soon: the end of the `SOON`th working day after
    today, Beijing time, by the working-day calendar with the days entered in it (the overview,
    the daily digest, and the inbox's 只看即将到期 on the page, in the API and on the command
    line). `calendar`: that calendar, if the caller has read it already."""
    calendar = calendar or calendar_of(conn)
    return end_of_local_day(calendar.add_working_days(now.astimezone(clock.TZ).date(), SOON))


def overview(session: Session, now: datetime, username: str) -> dict:
    """The overview for `username` (an office member: the caller checks) as of `now`."""
    today = now.astimezone(clock.TZ).date()
    year = today.year
    conn = session.connection()
    # the year's ledger and the supervision ledger of the plans in implementation now (all on the
    # year's ledger unless the clock was set back), their plans and steps read once for both
    plans, tasks = plans_and_tasks(conn, [or_(and_(*year_conditions(year)), and_(*supervision.now_conditions()))],
                                   telling=(FILING_STEP, supervision.SUPERVISE))
    users = conn.execute(select(User.username, User.display_name, User.active, Unit.name.label("unit"))
                         .outerjoin(Unit, User.unit_id == Unit.id)).all()
    rows = mark_provisional(conn, rows_of([p for p in plans if in_year(p, year)], tasks, now, names_of(conn, users),
                                          year=year))
    calendar = calendar_of(conn)
    soon = soon_by(conn, now, calendar)  # the inbox's 只看即将到期 uses the same instant
    filing_ids = {t.id for steps in tasks.values() for t in steps
                  if t.element_id == FILING_STEP and t.status in OPEN_STATUSES}

    overdue, due_soon, filings_overdue, filings_soon = [], [], [], []
    units: dict[str, dict] = {}
    variables_json = {p.id: p.variables_json for p in plans}
    variables: dict[int, dict] = {}  # parsed once a plan, when one of its steps is overdue (a report round has dozens)
    steps = {t.id: t for listed in tasks.values() for t in listed}
    unit_of = {u.username: u.unit for u in users}
    for row in rows:
        for step in row["current"]:
            # judged as the ledger judges it: by its first deadline when a later one was ordered
            # (限期报送), the ordered one beside it (engine/judged_due.py)
            due, ordered = judged_due.of(steps[step["task_id"]])
            if due is None:
                continue
            item = {"task_id": step["task_id"], "name": step["name"], "subject": step["subject"],
                    "due_at": iso(due), "due_on": last_day(due).isoformat(), "ordered_due_at": iso(ordered),
                    "assignee": step["assignee"],
                    "holder": step["holder"], "plan_id": row["id"], "business_key": row["business_key"],
                    "title": row["title"], "lead_unit": row["lead_unit"], "due_provisional": step["due_provisional"]}
            filing = step["task_id"] in filing_ids
            item["overdue"] = due <= now
            if item["overdue"]:
                item["days_late"] = max((today - last_day(due)).days, 0)
                overdue.append(item)
                if filing:
                    filings_overdue.append(item)
                if row["id"] not in variables:
                    variables[row["id"]] = json.loads(variables_json[row["id"]])
                body = owed_by(variables[row["id"]], steps[step["task_id"]], unit_of)
                owner = body or row["lead_unit"]
                unit = units.setdefault(owner or "", {"lead_unit": owner, "overdue": 0, "reports": 0, "plans": set()})
                unit["overdue"] += 1
                unit["reports"] += body is not None
                unit["plans"].add(row["id"])
                continue
            if due <= soon:
                due_soon.append(item)
                if filing:
                    filings_soon.append(item)

    overdue.sort(key=lambda t: (t["due_at"], t["task_id"]))
    for listed in (due_soon, filings_overdue, filings_soon):
        listed.sort(key=lambda t: (t["due_at"], t["task_id"]))
    ranked = sorted(({"lead_unit": u["lead_unit"], "overdue": u["overdue"], "reports": u["reports"],
                      "plans": len(u["plans"])}
                     for u in units.values()),
                    key=lambda u: (-u["overdue"], u["lead_unit"] is None, u["lead_unit"] or ""))
    watched = supervision.rows_of([p for p in plans if supervision.is_now(p)], tasks,
                                  completions(conn, supervision.now_conditions(), supervision.STEPS), now,
                                  {u.username: u.display_name for u in users})["summary"]
    return {
        "year": year, "as_of": iso(now), "today": today.isoformat(),
        "ledger": {"plans": len(rows), **{c: sum(r["colour"] == c for r in rows) for c in COLOURS},
                   "carried_over": sum(r["carried_over"] for r in rows)},
        "overdue": {"count": len(overdue), "tasks": overdue[:LISTED]},
        "due_soon": {"working_days": SOON, "until": last_day(soon).isoformat(), "count": len(due_soon),
                     "tasks": due_soon[:LISTED]},
        "units": {"count": len(ranked), "top": ranked[:TOP_UNITS]},
        "filings": {"overdue": len(filings_overdue), "due_soon": len(filings_soon),
                    "tasks": filings_overdue + filings_soon},
        "calendar_gaps": calendar_gaps(calendar, today, [step["due_at"] for row in rows for step in row["current"]
                                                         if step["due_in_working_days"]]),
        "claimable": count_tasks(session, username)["claimable"],
        # a stopped timer worker leaves every figure above looking calm: the oldest timer not fired
        "timers_behind": iso(timer_lag.behind_since(conn, now)),
        "supervision": {"plans": watched["plans"], "rectifications_open": watched["notices_open"],
                        "rectifications_overdue": watched["rectification_overdue"],
                        "supervisions_overdue": watched["supervision_overdue"]},
    }


def owed_by(variables: dict, task, unit_of: dict[str, str | None]) -> str | None:
    """The reporting body whose own overdue step `task` is, or None (it counts against the plan's
    lead unit). In a round of reports — the process property `reportingBodies` names the list
    of bodies (engine/reporting_bodies.py), a variable of the plan like every property — a step of
    a body's instance (its subject names the body: engine/runtime.py instance_subject) that the
    body holds: open to the body's user or group as the list gives them, or claimed by a member
    of the body's unit (the office may give it to a colleague). That is the body's report or its
    revision, late because the body has not sent it; the office's editing or chasing of it (open
    to the office's group) and its summary report (no subject) stay the office's, the round's
    lead unit."""
    listed = variables.get(reporting_bodies.PROPERTY)
    bodies = variables.get(listed) if isinstance(listed, str) else None
    if not task.subject or not isinstance(bodies, list):
        return None
    groups, users = json.loads(task.candidate_groups or "[]"), json.loads(task.candidate_users or "[]")
    for body in bodies:
        if not isinstance(body, dict) or str(body.get("unit") or "").strip()[:SUBJECT_LENGTH] != task.subject:
            continue
        if (body.get("group") and body["group"] in groups) or (body.get("user") and body["user"] in (task.assignee, *users)) \
                or (task.assignee and unit_of.get(task.assignee) == task.subject):
            return task.subject
    return None


def calendar_gaps(calendar: WorkCalendar, today, deadlines: list[str | None]) -> list[dict]:
    """[{"year", "steps"}]: each year that this year, the year `CALENDAR_LOOKAHEAD` on, or an open
    step's deadline (ISO instants) falls in, and that the calendar does not cover; `steps` counts
    the deadlines in it. `deadlines`: those counted in working days (a deadline of 30 calendar
    days, or a date someone typed, does not depend on the holidays)."""
    due_in: dict[int, int] = {}
    for due_at in deadlines:
        if due_at is not None:
            year = last_day(datetime.fromisoformat(due_at)).year
            due_in[year] = due_in.get(year, 0) + 1
    return [{"year": year, "steps": due_in.get(year, 0)} for year in missing_in_reach(calendar, today, due_in)]
