"""The ledger (台账): every plan with its lead unit, where it stands, its deadlines, and a
three-colour warning (三色预警) as reform offices keep it:

- red (红): a milestone is missed now — an open task past its due date, or the process's own
  milestone not reached by its planned date (a plan that ended without reaching it, as it stood
  when it ended);
- yellow (黄): a milestone was missed and has since been made up — a task completed (or
  withdrawn) after its due date, or the milestone reached after its planned date;
- green (绿): every milestone met so far.

The milestones are the due dates of the plan's tasks (camunda:dueDate) and, where the diagram
names one with process properties, its own milestone: `ledgerMilestone` (what it is called,
e.g. 方案出台), `ledgerMilestoneDue` (the variable holding its planned date, e.g.
plannedCompletion) and `ledgerMilestoneDone` (the variable holding the date it was reached,
e.g. issueDate); optionally `ledgerMilestoneDropped` (the variable holding the date the milestone
was given up, e.g. rejectedOn: a rejected plan is judged as it stood on that day, not when it
ends after handing its archive over). A process that tracks its measures (DOMAIN.md: each rated 已完成 / 已启动未完成 /
未启动) names the variables holding their counts: `ledgerMeasures` (how many), `ledgerMeasuresDone`
and `ledgerMeasuresStarted`; the rest are not started. Properties are variables of the plan, so
each plan keeps the ones it started with. The lead unit and responsible person are the variables `leadUnit` and
`responsiblePerson`. Each current step says who holds it (a name) or who may take it (groups):
in a round of reports, several bodies have the same step open, each named by its subject
(engine.runtime.instance_subject: 编审单位报告（市财政局）). Read-only: one query for the
plans, one for their tasks, one each for the names of users and groups.

A year's ledger (年度台账, `year`): the plans started in that year, Beijing time, and those
carried over (上年结转): started in an earlier year and not yet closed when it began — still
running (or stopped on an error: nobody has closed it), or completed or stopped (终止) on or after
1 January 00:00 Beijing time (`ended_at`, set when a plan ends). A plan started and closed before
the year is not on it; nor is one started after it. A carried-over row says so (`carried_over`).
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Connection, and_, func, or_, select

from models import AuditEvent, Group, HumanTask, ProcessDefinition, ProcessInstance, User

from . import clock
from .deadlines import last_local_day
from .display import step
from .errors import Invalid
from .judged_due import of as judged_due_of
from .provisional import counts_working_days, mark
from .queries import iso
from .runtime import OPEN_STATUSES

COLOURS = ("red", "yellow", "green")
STATUSES = ("running", "completed", "cancelled", "error", "all")
LEAD_UNIT, RESPONSIBLE = "leadUnit", "responsiblePerson"
# the process properties that name a process's own milestone (see above)
MILESTONE, MILESTONE_DUE, MILESTONE_DONE = "ledgerMilestone", "ledgerMilestoneDue", "ledgerMilestoneDone"
MILESTONE_DROPPED = "ledgerMilestoneDropped"
# ... and the variables holding the counts of its measures
MEASURES, MEASURES_DONE, MEASURES_STARTED = "ledgerMeasures", "ledgerMeasuresDone", "ledgerMeasuresStarted"


def ledger(conn: Connection, now: datetime, *, status: str = "all", colour: str | None = None,
           unit: str | None = None, process: str | None = None, year: int | None = None) -> list[dict]:
    """The ledger's rows, red first, then yellow, then green, each by plan id. `unit`: only plans
    whose lead unit contains this text; `process`: only plans of this process key; `year`: that
    year's ledger, the plans started in it and those carried over into it (see above); None:
    every plan ever started."""
    if status not in STATUSES:
        raise Invalid(f"状态须为 {'、'.join(STATUSES)} 之一 (status must be one of {', '.join(STATUSES)})")
    if colour is not None and colour not in COLOURS:
        raise Invalid(f"颜色须为 {'、'.join(COLOURS)} 之一 (colour must be one of {', '.join(COLOURS)})")
    conditions = []
    if status != "all":
        conditions.append(ProcessInstance.status == status)
    if process is not None:
        conditions.append(ProcessDefinition.key == process)
    if year is not None:
        conditions += year_conditions(year)
    plans, tasks = plans_and_tasks(conn, conditions, telling=())
    return mark_provisional(conn, rows_of(plans, tasks, now, names_of(conn), unit=unit, colour=colour, year=year))


def mark_provisional(conn: Connection, rows: list[dict]) -> list[dict]:
    """`due_provisional` on each open step of `rows` (engine/provisional.py): the ledger and the
    overview mark such a deadline 暂定 as the inbox does (the overview said 标为“暂定” while the
    ledger showed the step's deadline as firm). Returns `rows`."""
    mark(conn, [step for row in rows for step in row["current"]])
    return rows


def year_conditions(year: int) -> list:
    """The plans on `year`'s ledger: started by its end, not ended before it began."""
    if not clock.YEARS[0] <= year <= clock.YEARS[1]:
        raise Invalid(f"年度须在 {clock.YEARS[0]} 至 {clock.YEARS[1]} 之间：{year} "
                      f"(the year must be from {clock.YEARS[0]} to {clock.YEARS[1]}, e.g. 2027)")
    return [ProcessInstance.started_at < year_begins(year + 1),
            or_(ProcessInstance.ended_at.is_(None), ProcessInstance.ended_at >= year_begins(year))]


def in_year(plan, year: int) -> bool:
    """year_conditions, of a plan read already."""
    return plan.started_at < year_begins(year + 1) and (plan.ended_at is None or plan.ended_at >= year_begins(year))


def names_of(conn: Connection, users: list | None = None) -> "_Names":
    """Who holds a step, by name. `users`: the rows of username, display_name and active, if read."""
    users = conn.execute(select(User.username, User.display_name, User.active)).all() if users is None else users
    return _Names({u.username: u.display_name if u.active else f"{u.display_name}（已停用 deactivated）"
                   for u in users},
                  dict(conn.execute(select(Group.code, Group.display_name)).all()))


def rows_of(plans: list, tasks: dict[int, list], now: datetime, names: "_Names", *, unit: str | None = None,
            colour: str | None = None, year: int | None = None) -> list[dict]:
    """The ledger's rows of plans read by plans_and_tasks, in the ledger's order."""
    begins = year_begins(year) if year is not None else None
    rows = []
    for plan in plans:
        variables = json.loads(plan.variables_json)
        lead_unit = variables.get(LEAD_UNIT)
        if unit is not None and unit not in str(lead_unit or ""):
            continue
        row = _row(plan, variables, tasks.get(plan.id, []), now, names)
        row["carried_over"] = begins is not None and plan.started_at < begins
        if colour is None or row["colour"] == colour:
            rows.append(row)
    return sorted(rows, key=lambda r: COLOURS.index(r["colour"]))


def year_begins(year: int) -> datetime:
    """1 January 00:00 of `year`, Beijing time, in UTC like every instant the engine keeps."""
    return datetime(year, 1, 1, tzinfo=clock.TZ).astimezone(timezone.utc)


def years(conn: Connection, today: date) -> list[int]:
    """The years a ledger can be asked for, newest first: from the year the first plan was
    started to this year (or the latest plan's, if the clock was set back), Beijing time; a year
    between with no plan started may still carry plans over. This year alone without plans."""
    first, last = conn.execute(select(func.min(ProcessInstance.started_at), func.max(ProcessInstance.started_at))).one()
    if first is None:
        return [today.year]
    newest = max(today.year, last.astimezone(clock.TZ).year)
    return list(range(newest, first.astimezone(clock.TZ).year - 1, -1))


class _Names:
    """Display names of users and groups, for who holds a step."""

    def __init__(self, users: dict[str, str], groups: dict[str, str]):
        self.users, self.groups = users, groups

    def holder(self, task) -> str:
        """The holder's name, or the candidates of an open step: 专项小组, or named users."""
        if task.assignee:
            return self.users.get(task.assignee, task.assignee)
        # a step kept to one unit names it: 市科技局的起草人, not every drafter in the city
        unit = f"{task.candidate_unit}的" if task.candidate_unit else ""
        return "、".join([unit + self.groups.get(g, g) for g in json.loads(task.candidate_groups)]
                        + [self.users.get(u, u) for u in json.loads(task.candidate_users)])


def holder_text(step: dict, open_label: str) -> str:
    """Who holds a current step, or, after `open_label`, who may take it (a step without
    candidates: the reform office)."""
    return step["holder"] if step["assignee"] else f"{open_label}：{step['holder'] or '改革办'}"


def _row(plan, variables: dict, tasks: list, now: datetime, names: _Names) -> dict:
    current, missed = [], []
    for task in tasks:
        is_open = task.status in OPEN_STATUSES
        if is_open:
            current.append({"task_id": task.id, "name": task.name, "subject": task.subject, "status": task.status,
                            "due_at": iso(task.due_at), "due_in_working_days": counts_working_days(task.due_basis),
                            "created_at": iso(task.created_at), "assignee": task.assignee, "holder": names.holder(task)})
        due, ordered = judged_due_of(task)  # the rule every figure follows (engine/judged_due.py)
        if due is None:
            continue
        if is_open and due <= now:
            missed.append(_missed(step(task.name, task.subject), task.id, due, None, _days_late(due, now),
                                  ordered=ordered))
        elif task.completed_at is not None and task.completed_at > due:
            # completed late, or withdrawn after its deadline had passed (an interrupting timer, the
            # plan's end): missed either way, and closed since
            missed.append(_missed(step(task.name, task.subject), task.id, due, iso(task.completed_at),
                                  _days_late(due, task.completed_at), task.status == "cancelled", ordered))
    milestone, planned, reached = _milestone(variables)
    # a plan that ended without reaching it (rejected, say) is judged as it stood when it ended:
    # not missed if it ended before the planned date, else missed by the days up to its end;
    # one that gave it up (rejected, its archive still to hand over) as it stood on that day
    until = min(plan.ended_at, now) if plan.ended_at is not None else now
    dropped = _date(_named(variables, MILESTONE_DROPPED))
    if dropped is not None:
        until = min(until, datetime.combine(dropped, time(), clock.TZ))
    if planned is not None:
        due = due_end(planned)
        if reached is not None and reached > planned:
            missed.append(_missed(milestone, None, due, reached.isoformat(), (reached - planned).days))
        elif reached is None and due <= until:
            missed.append(_missed(milestone, None, due, None, _days_late(due, until)))
    if any(m["done_at"] is None for m in missed):
        colour = "red"
    else:
        colour = "yellow" if missed else "green"
    return {"id": plan.id, "business_key": plan.business_key, "title": plan.title, "process_key": plan.key,
            "process_name": plan.name, "status": plan.status, "colour": colour,
            "lead_unit": variables.get(LEAD_UNIT), "responsible_person": variables.get(RESPONSIBLE),
            "milestone": milestone, "milestone_due": planned.isoformat() if planned else None,
            "milestone_reached": reached.isoformat() if reached else None,
            "milestone_dropped": dropped.isoformat() if dropped else None, "measures": _measures(variables),
            "started_at": iso(plan.started_at), "ended_at": iso(plan.ended_at),
            "current": current, "missed": missed}


def due_end(planned: date) -> datetime:
    """By the end of that day, Beijing time; given in UTC like every instant the engine shows."""
    return datetime.combine(planned + timedelta(days=1), time(), clock.TZ).astimezone(timezone.utc)


def _missed(what: str, task_id: int | None, due: datetime, done_at: str | None, days_late: int,
            cancelled: bool = False, ordered: datetime | None = None) -> dict:
    """A missed milestone: `done_at` None while it still is, else when it was done (a date for the
    process's milestone, an instant for a task) or, `cancelled`, withdrawn. `ordered_due_at`: the
    deadline set later (限期), shown beside the missed one."""
    return {"what": what, "task_id": task_id, "due_at": iso(due), "done_at": done_at, "days_late": days_late,
            "cancelled": cancelled, "ordered_due_at": iso(ordered) if ordered else None}


def _milestone(variables: dict) -> tuple[str | None, date | None, date | None]:
    """The process's own milestone: its name, planned date and the date it was reached."""
    due_variable = variables.get(MILESTONE_DUE)
    if not isinstance(due_variable, str):
        return None, None, None
    return (str(variables.get(MILESTONE) or due_variable), _date(_named(variables, MILESTONE_DUE)),
            _date(_named(variables, MILESTONE_DONE)))


def _measures(variables: dict) -> dict | None:
    """How many measures the plan has and how many are done, started or not started, as its last
    report says; the three are None until a report has come. None for a process without measures."""
    count = _count(variables, MEASURES)
    if count is None:
        return None
    done, started = _count(variables, MEASURES_DONE), _count(variables, MEASURES_STARTED)
    if done is None:
        return {"count": count, "done": None, "started": None, "not_started": None}
    started = started or 0
    return {"count": count, "done": done, "started": started, "not_started": max(count - done - started, 0)}


def _count(variables: dict, prop: str) -> int | None:
    value = _named(variables, prop)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _named(variables: dict, prop: str):
    """The value of the variable a process property names (ledgerMilestoneDue → plannedCompletion
    → its date), None if the property or the variable is not there."""
    name = variables.get(prop)
    return variables.get(name) if isinstance(name, str) else None


def last_day(due: datetime) -> date:
    """The Beijing date a deadline runs to: a date is due at the end of it (the next midnight)."""
    return last_local_day(due)


def due_on(due_at: str | datetime | None) -> str | None:
    """`due_on` beside a `due_at` (the API, the command line's --json): the Beijing date an instant
    deadline runs to, ISO; a script reading the UTC date of 2027-02-20T16:00:00+00:00 would take
    the 21st."""
    due = datetime.fromisoformat(due_at) if isinstance(due_at, str) and due_at else due_at
    return last_day(due).isoformat() if isinstance(due, datetime) else None


def _days_late(due: datetime, at: datetime) -> int:
    """Whole days from the deadline to `at`, by Beijing dates: a task due by the end of 8 January
    and still open on the 9th is one day late."""
    return max((at.astimezone(clock.TZ).date() - last_day(due)).days, 0)


def _date(value) -> date | None:
    """A date variable as the forms keep it (ISO text); anything else is no milestone."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def by_unit(rows: list[dict]) -> list[dict]:
    """The ledger per lead unit, for the annual assessment: how many plans each unit leads, how
    many are red, yellow and green, how many milestones it missed and by how many days in all,
    and how many measures its plans in implementation have and have done.
    Most red first, then most yellow, then by name; plans without a lead unit last."""
    units: dict[str, dict] = {}
    for row in rows:
        unit = units.setdefault(row["lead_unit"] or "", {"lead_unit": row["lead_unit"], "plans": 0, "red": 0,
                                                         "yellow": 0, "green": 0, "missed": 0, "days_late": 0,
                                                         "measures": 0, "measures_done": 0})
        unit["plans"] += 1
        if row["measures"] is not None:
            unit["measures"] += row["measures"]["count"]
            unit["measures_done"] += row["measures"]["done"] or 0
        unit[row["colour"]] += 1
        unit["missed"] += len(row["missed"])
        unit["days_late"] += sum(m["days_late"] for m in row["missed"])
    return sorted(units.values(), key=lambda u: (u["lead_unit"] is None, -u["red"], -u["yellow"], u["lead_unit"] or ""))


def plans_and_tasks(conn: Connection, conditions, *, telling: tuple[str, ...] | None = None) -> tuple[list, dict[int, list]]:
    """The plans that meet `conditions` (on plans and their definitions), and each one's inbox
    rows by plan id: the rows the ledger and the quarterly bulletin work from. `telling`: only the
    rows that tell in a ledger row (open, done or withdrawn after their deadline, their deadline
    changed: the others, most of them, show nowhere in it), and every row of these steps (element
    ids); None: every row."""
    plans = conn.execute(select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.title,
                                ProcessInstance.status, ProcessInstance.variables_json, ProcessInstance.started_at,
                                ProcessInstance.ended_at, ProcessDefinition.key, ProcessDefinition.name)
                         .join(ProcessDefinition, ProcessInstance.definition_id == ProcessDefinition.id)
                         .where(*conditions).order_by(ProcessInstance.id)).all()
    tasks: dict[int, list] = {}
    for row in conn.execute(select(HumanTask.instance_id, HumanTask.id, HumanTask.element_id, HumanTask.name,
                                   HumanTask.subject, HumanTask.status, HumanTask.due_at, HumanTask.created_at,
                                   HumanTask.completed_at, HumanTask.assignee, HumanTask.candidate_groups,
                                   HumanTask.candidate_users, HumanTask.candidate_unit, HumanTask.due_basis,
                                   HumanTask.first_due_at)
                            .join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
                            .join(ProcessDefinition, ProcessInstance.definition_id == ProcessDefinition.id)
                            .where(*conditions, *_telling(telling)).order_by(HumanTask.id)):
        tasks.setdefault(row.instance_id, []).append(row)
    return plans, tasks


def _telling(telling: tuple[str, ...] | None) -> tuple:
    if telling is None:
        return ()
    return (or_(HumanTask.status.in_(OPEN_STATUSES), HumanTask.completed_at > HumanTask.due_at,
                HumanTask.first_due_at.is_not(None), *([HumanTask.element_id.in_(telling)] if telling else [])),)


def completions(conn: Connection, conditions, elements: tuple[str, ...]) -> dict[int, list]:
    """The `task_completed` audit events of these steps (element ids) in the plans that meet
    `conditions`, oldest first, by plan id: what was submitted, which the plan's variables keep
    only the latest of (the quarterly bulletin, the supervision ledger)."""
    done: dict[int, list] = {}
    for event in conn.execute(select(AuditEvent.seq, AuditEvent.instance_id, AuditEvent.task_id,
                                     AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.payload,
                                     HumanTask.element_id)
                              .join(HumanTask, and_(AuditEvent.task_id == HumanTask.id,
                                                    AuditEvent.instance_id == HumanTask.instance_id))
                              .join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
                              .join(ProcessDefinition, ProcessInstance.definition_id == ProcessDefinition.id)
                              .where(*conditions, AuditEvent.event_type == "task_completed",
                                     HumanTask.element_id.in_(elements))
                              .order_by(AuditEvent.seq)):
        done.setdefault(event.instance_id, []).append(event)
    return done


def plan_line(conn: Connection, now: datetime, instance_id: int) -> dict | None:
    """One plan's row for its own page, which lists the plan's steps itself: without the holders'
    names, so the users' and groups' directory is not read for it."""
    plans, tasks = plans_and_tasks(conn, [ProcessInstance.id == instance_id])
    return plan_row(plans[0], json.loads(plans[0].variables_json), tasks.get(instance_id, []), now) if plans else None


def plan_row(plan, variables: dict, tasks: list, now: datetime) -> dict:
    """One plan's ledger row as of `now`, from rows shaped like the ledger's own queries: the
    quarterly bulletin (engine/bulletin.py) gives a plan and its tasks as they stood at a quarter's end."""
    return _row(plan, variables, tasks, now, _Names({}, {}))


days_late = _days_late  # the bulletin says how late a table was filed, as the ledger counts it
date_variable = _date  # and both read the plan's date variables as the ledger does
